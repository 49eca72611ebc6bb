using System.Buffers.Binary;
using System.Text;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// The protocol-buffer wire format, as far as a SentencePiece <c>ModelProto</c> needs it: varints, 32-bit floats and
/// length-delimited fields (strings, bytes, nested messages). Unknown fields are skipped when reading.
/// </summary>
internal ref struct ProtobufReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    public ProtobufReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
    }

    public readonly bool End => _pos >= _data.Length;

    /// <summary>Reads a field key; false at the end of the message.</summary>
    public bool Next(out int field, out int wireType)
    {
        field = wireType = 0;
        if (End) return false;
        ulong key = Varint();
        field = (int)(key >> 3);
        wireType = (int)(key & 7);
        if (field <= 0) throw new FormatException($"invalid field number {field} at byte {_pos}.");
        return true;
    }

    public ulong Varint()
    {
        ulong v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length) throw new FormatException("truncated varint.");
            byte b = _data[_pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
        throw new FormatException("varint longer than 10 bytes.");
    }

    public float Float32(int wireType)
    {
        if (wireType != 5) throw new FormatException($"expected a 32-bit field, got wire type {wireType}.");
        if (_pos + 4 > _data.Length) throw new FormatException("truncated 32-bit field.");
        float f = BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_pos, 4));
        _pos += 4;
        return f;
    }

    public ReadOnlySpan<byte> Bytes(int wireType)
    {
        if (wireType != 2) throw new FormatException($"expected a length-delimited field, got wire type {wireType}.");
        ulong n = Varint();
        if (n > (ulong)(_data.Length - _pos)) throw new FormatException($"length {n} runs past the end of the data.");
        var s = _data.Slice(_pos, (int)n);
        _pos += (int)n;
        return s;
    }

    public string String(int wireType) => new UTF8Encoding(false, true).GetString(Bytes(wireType));

    public long Int(int wireType)
    {
        if (wireType != 0) throw new FormatException($"expected a varint field, got wire type {wireType}.");
        return (long)Varint();
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: Varint(); break;
            case 1: if ((_pos += 8) > _data.Length) throw new FormatException("truncated 64-bit field."); break;
            case 2: Bytes(2); break;
            case 5: if ((_pos += 4) > _data.Length) throw new FormatException("truncated 32-bit field."); break;
            default: throw new FormatException($"unsupported wire type {wireType}.");
        }
    }
}

/// <summary>Writes protocol-buffer fields (the counterpart of <see cref="ProtobufReader"/>).</summary>
internal sealed class ProtobufWriter
{
    private readonly MemoryStream _s = new();

    public byte[] ToArray() => _s.ToArray();

    private void Varint(ulong v)
    {
        while (v >= 0x80)
        {
            _s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        _s.WriteByte((byte)v);
    }

    private void Key(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    public void Int(int field, long v)
    {
        Key(field, 0);
        Varint((ulong)v);
    }

    public void Bool(int field, bool v) => Int(field, v ? 1 : 0);

    public void Float(int field, float v)
    {
        Key(field, 5);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, v);
        _s.Write(b);
    }

    public void Bytes(int field, ReadOnlySpan<byte> v)
    {
        Key(field, 2);
        Varint((ulong)v.Length);
        _s.Write(v);
    }

    public void String(int field, string v) => Bytes(field, Encoding.UTF8.GetBytes(v));
}
