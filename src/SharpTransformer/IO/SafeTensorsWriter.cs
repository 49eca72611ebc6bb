using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace SharpTransformer.IO;

/// <summary>
/// Builds a safetensors file: entries sorted by name with contiguous data, the JSON header padded with spaces to a multiple
/// of 8 bytes (as the reference implementation), written atomically.
/// </summary>
public sealed class SafeTensorsWriter
{
    private readonly SortedDictionary<string, (SafeTensorsDType DType, int[] Shape, byte[] Data)> _entries = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _metadata = new(StringComparer.Ordinal);

    /// <summary>Adds float values stored as F32, F16 or BF16 (rounded to nearest even).</summary>
    public SafeTensorsWriter Add(string name, int[] shape, ReadOnlySpan<float> values, SafeTensorsDType dtype = SafeTensorsDType.F32)
    {
        Check(name, shape, values.Length);
        byte[] data;
        switch (dtype)
        {
            case SafeTensorsDType.F32:
                data = MemoryMarshal.AsBytes(values).ToArray();
                break;
            case SafeTensorsDType.F16:
                data = new byte[values.Length * 2];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)values[i]));
                break;
            case SafeTensorsDType.BF16:
                data = new byte[values.Length * 2];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), ToBFloat16(values[i]));
                break;
            default:
                throw new ArgumentException($"SafeTensorsWriter: '{name}': float values cannot be stored as {dtype}.");
        }
        _entries[name] = (dtype, (int[])shape.Clone(), data);
        return this;
    }

    /// <summary>Adds integers stored as I32 or I64.</summary>
    public SafeTensorsWriter Add(string name, int[] shape, ReadOnlySpan<int> values, SafeTensorsDType dtype = SafeTensorsDType.I64)
    {
        Check(name, shape, values.Length);
        byte[] data;
        if (dtype == SafeTensorsDType.I32) data = MemoryMarshal.AsBytes(values).ToArray();
        else if (dtype == SafeTensorsDType.I64)
        {
            data = new byte[values.Length * 8];
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8 * i), values[i]);
        }
        else throw new ArgumentException($"SafeTensorsWriter: '{name}': integers cannot be stored as {dtype}.");
        _entries[name] = (dtype, (int[])shape.Clone(), data);
        return this;
    }

    /// <summary>Adds a <c>__metadata__</c> string.</summary>
    public SafeTensorsWriter Metadata(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    private void Check(string name, int[] shape, int count)
    {
        if (string.IsNullOrEmpty(name) || name == "__metadata__") throw new ArgumentException($"SafeTensorsWriter: invalid tensor name '{name}'.");
        long n = 1;
        foreach (var d in shape) { if (d < 0) throw new ArgumentException($"SafeTensorsWriter: '{name}' has a negative dimension."); n *= d; }
        if (n != count) throw new ArgumentException($"SafeTensorsWriter: '{name}' shape [{string.Join(", ", shape)}] holds {n} elements, got {count}.");
    }

    private static ushort ToBFloat16(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>The file's bytes.</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        WriteTo(ms);
        return ms.ToArray();
    }

    /// <summary>Writes the file to a stream.</summary>
    public void WriteTo(Stream stream)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (_metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in _metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, e) in _entries)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", e.DType.ToString());
                json.WriteStartArray("shape");
                foreach (var d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + e.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += e.Data.Length;
            }
            json.WriteEndObject();
        }
        var header = buffer.ToArray().ToList();
        while (header.Count % 8 != 0) header.Add((byte)' ');
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Count);
        stream.Write(len);
        stream.Write(header.ToArray());
        foreach (var (_, e) in _entries) stream.Write(e.Data);
    }

    /// <summary>Writes the file atomically (temporary file, flush, rename).</summary>
    public void Save(string path) => AtomicFile.Write(path, WriteTo);
}
