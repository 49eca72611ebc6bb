using System.Buffers.Binary;
using System.Text;
using SharpTransformer.IO;

namespace SharpTransformer.Tests.IO;

public class SafeTensorsTests
{
    private static string Temp(string name) => Path.Combine(Directory.CreateTempSubdirectory("sharpt-st-").FullName, name);

    [Fact]
    public void RoundTripsF32F16Bf16IntsAndMetadata()
    {
        var path = Temp("t.safetensors");
        float[] v = [0f, -0f, 1.5f, -2.25f, 65504f, 1e-7f, float.PositiveInfinity, float.NaN];
        new SafeTensorsWriter()
            .Add("a", [2, 4], v)
            .Add("h", [8], v, SafeTensorsDType.F16)
            .Add("b", [8], v, SafeTensorsDType.BF16)
            .Add("ids", [3], [1, -5, 50256])
            .Add("i32", [2], [7, 8], SafeTensorsDType.I32)
            .Metadata("format", "pt")
            .Save(path);
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal(["a", "b", "h", "i32", "ids"], f.Names.OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal(v, f.ReadFloats("a"));
        Assert.Equal([2, 4], f.ShapeOf("a"));
        Assert.Equal(v.Select(x => (float)(Half)x), f.ReadFloats("h"));
        var bf = f.ReadFloats("b");
        Assert.Equal(1.5f, bf[2]); Assert.Equal(-2.25f, bf[3]); Assert.True(float.IsNaN(bf[7])); Assert.True(float.IsPositiveInfinity(bf[6]));
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(bf[1]));
        Assert.Equal([1, -5, 50256], f.ReadInts("ids"));
        Assert.Equal([7, 8], f.ReadInts("i32"));
    }

    [Fact]
    public void WritesTheReferenceByteLayout()
    {
        var bytes = new SafeTensorsWriter().Add("x", [2], [1f, 2f]).ToBytes();
        string header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        int padded = (header.Length + 7) / 8 * 8;
        Assert.Equal((ulong)padded, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        Assert.Equal(header.PadRight(padded), Encoding.UTF8.GetString(bytes, 8, padded));
        Assert.Equal(1f, BitConverter.ToSingle(bytes, 8 + padded));
        Assert.Equal(2f, BitConverter.ToSingle(bytes, 12 + padded));
        Assert.Equal(8 + padded + 8, bytes.Length);
    }

    private static string Raw(string header, int dataBytes, ulong? declared = null)
    {
        var path = Temp("bad.safetensors");
        var h = Encoding.UTF8.GetBytes(header);
        using var fs = File.Create(path);
        var len = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, declared ?? (ulong)h.Length);
        fs.Write(len);
        fs.Write(h);
        fs.Write(new byte[dataBytes]);
        return path;
    }

    [Theory]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "past the data section")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes")]
    [InlineData("{\"x\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype 'Q4'")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "invalid dimension")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "invalid data_offsets")]
    [InlineData("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "no dtype")]
    [InlineData("[1,2]", 0, "not a JSON object")]
    [InlineData("{\"x\":", 0, "not valid JSON")]
    public void RejectsMalformedFilesNamingTheProblem(string header, int dataBytes, string expected)
    {
        var path = Raw(header, dataBytes);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void RejectsHeaderLongerThanFileOrOver100MB()
    {
        var e1 = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(Raw("{}", 0, declared: 1000)));
        Assert.Contains("longer than the file", e1.Message);
        var e2 = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(Raw("{}", 0, declared: 200_000_000)));
        Assert.Contains("100 MB", e2.Message);
        var tiny = Temp("tiny.safetensors");
        File.WriteAllBytes(tiny, [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(tiny)).Message);
    }

    [Fact]
    public void AtomicWriteLeavesTheOldFileIntactWhenWritingFails()
    {
        var path = Temp("keep.bin");
        File.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[1000]);
            throw new InvalidOperationException("crash mid-write");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));   // no temporary file left behind
    }
}
