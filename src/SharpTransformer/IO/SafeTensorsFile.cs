using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using SharpTransformer.IO.HuggingFace;

namespace SharpTransformer.IO;

/// <summary>One tensor of a safetensors file.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Start">First byte, relative to the data section.</param>
/// <param name="End">One past the last byte, relative to the data section.</param>
public sealed record SafeTensorsEntry(string Name, SafeTensorsDType DType, int[] Shape, long Start, long End)
{
    /// <summary>Number of elements.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A safetensors file, memory-mapped read-only: an 8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the data. Malformed files are rejected with <see cref="InvalidDataException"/>.
/// </summary>
public sealed class SafeTensorsFile : ITensorSource, IDisposable
{
    /// <summary>Largest accepted header.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorsEntry> _entries;

    private SafeTensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long dataStart,
        Dictionary<string, SafeTensorsEntry> entries, Dictionary<string, string> metadata)
    {
        Path = path; _map = map; _view = view; _dataStart = dataStart; _entries = entries; Metadata = metadata;
    }

    /// <summary>The file.</summary>
    public string Path { get; }
    /// <summary>The <c>__metadata__</c> entries (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Tensors by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorsEntry> Entries => _entries;
    /// <inheritdoc/>
    public IReadOnlyCollection<string> Names => _entries.Keys;

    /// <summary>Opens and validates a file.</summary>
    public static SafeTensorsFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"safetensors: file not found: {path}", path);
        long size = info.Length;
        if (size < 8) throw new InvalidDataException($"{path}: {size} bytes is too short for a safetensors header length.");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, size, MemoryMappedFileAccess.Read);
            ulong headerLen = view.ReadUInt64(0);
            if (headerLen > MaxHeaderBytes) throw new InvalidDataException($"{path}: header length {headerLen} exceeds the 100 MB limit.");
            if ((long)headerLen > size - 8) throw new InvalidDataException($"{path}: header length {headerLen} is longer than the file ({size} bytes).");
            var header = new byte[headerLen];
            view.ReadArray(8, header, 0, header.Length);
            long dataStart = 8 + (long)headerLen;
            var (entries, metadata) = ParseHeader(path, header, size - dataStart);
            return new SafeTensorsFile(path, map, view, dataStart, entries, metadata);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, SafeTensorsEntry>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataBytes)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: the header is not valid JSON ({e.Message}).", e); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: the header is not a JSON object.");
        var entries = new Dictionary<string, SafeTensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                if (p.Value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: __metadata__ is not an object.");
                foreach (var m in p.Value.EnumerateObject())
                    metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : throw new InvalidDataException($"{path}: __metadata__ value '{m.Name}' is not a string.");
                continue;
            }
            var v = p.Value;
            if (v.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: tensor '{p.Name}' is not an object.");
            if (!v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{path}: tensor '{p.Name}' has no dtype.");
            if (!Enum.GetNames<SafeTensorsDType>().Contains(dt.GetString()) || !Enum.TryParse<SafeTensorsDType>(dt.GetString(), out var dtype))
                throw new InvalidDataException($"{path}: tensor '{p.Name}' has unknown dtype '{dt.GetString()}'.");
            if (!v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: tensor '{p.Name}' has no shape.");
            var shape = new List<int>();
            foreach (var d in sh.EnumerateArray())
            {
                if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dl) || dl < 0 || dl > int.MaxValue)
                    throw new InvalidDataException($"{path}: tensor '{p.Name}' has an invalid dimension {d.GetRawText()}.");
                shape.Add((int)dl);
            }
            if (!v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
                throw new InvalidDataException($"{path}: tensor '{p.Name}' has no data_offsets [start, end].");
            if (!off[0].TryGetInt64(out long start) || !off[1].TryGetInt64(out long end))
                throw new InvalidDataException($"{path}: tensor '{p.Name}' has non-integer data_offsets.");
            if (start < 0 || end < start) throw new InvalidDataException($"{path}: tensor '{p.Name}' has invalid data_offsets [{start}, {end}].");
            if (end > dataBytes) throw new InvalidDataException($"{path}: tensor '{p.Name}' data_offsets [{start}, {end}] run past the data section ({dataBytes} bytes).");
            var e = new SafeTensorsEntry(p.Name, dtype, [.. shape], start, end);
            long expect = e.Count * ElementSize(dtype);
            if (end - start != expect)
                throw new InvalidDataException($"{path}: tensor '{p.Name}' {dtype} shape [{string.Join(", ", shape)}] needs {expect} bytes but data_offsets give {end - start}.");
            if (!entries.TryAdd(p.Name, e)) throw new InvalidDataException($"{path}: tensor '{p.Name}' appears twice.");
        }
        var sorted = entries.Values.Where(e => e.End > e.Start).OrderBy(e => e.Start).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Start < sorted[i - 1].End)
                throw new InvalidDataException($"{path}: tensors '{sorted[i - 1].Name}' [{sorted[i - 1].Start}, {sorted[i - 1].End}) and '{sorted[i].Name}' [{sorted[i].Start}, {sorted[i].End}) overlap.");
        return (entries, metadata);
    }

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(SafeTensorsDType t) => t switch
    {
        SafeTensorsDType.F64 or SafeTensorsDType.I64 => 8,
        SafeTensorsDType.F32 or SafeTensorsDType.I32 => 4,
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.I16 => 2,
        _ => 1,
    };

    private SafeTensorsEntry Get(string name) =>
        _entries.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");

    /// <inheritdoc/>
    public int[] ShapeOf(string name) => (int[])Get(name).Shape.Clone();

    /// <inheritdoc/>
    public float[] ReadFloats(string name)
    {
        var e = Get(name);
        var r = new float[e.Count];
        ReadFloats(name, r);
        return r;
    }

    /// <summary>Reads a tensor into <paramref name="destination"/>, converting F16, BF16, F64 and integers to float32.</summary>
    public void ReadFloats(string name, Span<float> destination)
    {
        var e = Get(name);
        if (destination.Length != e.Count) throw new ArgumentException($"{Path}: '{name}' has {e.Count} elements, destination {destination.Length}.");
        var bytes = Bytes(e);
        switch (e.DType)
        {
            case SafeTensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination);
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors: big-endian hosts are not supported.");
                break;
            case SafeTensorsDType.F16:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]));
                break;
            case SafeTensorsDType.BF16:
                for (int i = 0; i < destination.Length; i++) destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                break;
            case SafeTensorsDType.F64:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]);
                break;
            case SafeTensorsDType.I64:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]);
                break;
            case SafeTensorsDType.I32:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]);
                break;
            case SafeTensorsDType.I16:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes[(2 * i)..]);
                break;
            case SafeTensorsDType.I8:
                for (int i = 0; i < destination.Length; i++) destination[i] = (sbyte)bytes[i];
                break;
            default:
                for (int i = 0; i < destination.Length; i++) destination[i] = bytes[i];
                break;
        }
    }

    /// <summary>Reads an integer tensor (ids, labels) as int32.</summary>
    public int[] ReadInts(string name)
    {
        var e = Get(name);
        var bytes = Bytes(e);
        var r = new int[e.Count];
        for (int i = 0; i < r.Length; i++)
        {
            long v = e.DType switch
            {
                SafeTensorsDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]),
                SafeTensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]),
                SafeTensorsDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(bytes[(2 * i)..]),
                SafeTensorsDType.I8 => (sbyte)bytes[i],
                SafeTensorsDType.U8 or SafeTensorsDType.BOOL => bytes[i],
                _ => throw new InvalidDataException($"{Path}: '{name}' is {e.DType}, not an integer tensor."),
            };
            if (v < int.MinValue || v > int.MaxValue) throw new InvalidDataException($"{Path}: '{name}'[{i}] = {v} does not fit in int32.");
            r[i] = (int)v;
        }
        return r;
    }

    private unsafe ReadOnlySpan<byte> Bytes(SafeTensorsEntry e)
    {
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        try
        {
            return new ReadOnlySpan<byte>(p + _view.PointerOffset + _dataStart + e.Start, checked((int)(e.End - e.Start)));
        }
        finally
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        _view.Dispose();
        _map.Dispose();
    }
}
