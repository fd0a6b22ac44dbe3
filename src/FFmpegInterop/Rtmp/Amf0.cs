using System.Buffers.Binary;
using System.Text;

namespace CatEvening.FFmpegInterop.Rtmp;

/// <summary>
/// Writes AMF0 values (Action Message Format 0, Adobe's "AMF0 File Format Specification" section 2) into a buffer: the
/// command and data messages of RTMP. Grows the buffer as needed; used while a connection is set up, not per packet.
/// </summary>
internal sealed class Amf0Writer
{
    private byte[] _buffer = new byte[256];

    /// <summary>Bytes written so far.</summary>
    public int Length { get; private set; }

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    /// <summary>Starts again from an empty buffer.</summary>
    public Amf0Writer Clear()
    {
        Length = 0;
        return this;
    }

    /// <summary>Number marker (0x00) and an IEEE 754 double, big-endian (section 2.2).</summary>
    public Amf0Writer Number(double value)
    {
        var span = Reserve(9);
        span[0] = 0x00;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        return this;
    }

    /// <summary>Boolean marker (0x01) and one byte (section 2.3).</summary>
    public Amf0Writer Boolean(bool value)
    {
        var span = Reserve(2);
        span[0] = 0x01;
        span[1] = value ? (byte)1 : (byte)0;
        return this;
    }

    /// <summary>String marker (0x02), a 16-bit length and UTF-8 (section 2.4); a long string (0x0C) past 65,535 bytes.</summary>
    public Amf0Writer String(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        if (count > ushort.MaxValue)
        {
            var longSpan = Reserve(5 + count);
            longSpan[0] = 0x0C;
            BinaryPrimitives.WriteUInt32BigEndian(longSpan[1..], (uint)count);
            Encoding.UTF8.GetBytes(value, longSpan[5..]);
            return this;
        }
        var span = Reserve(3 + count);
        span[0] = 0x02;
        BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)count);
        Encoding.UTF8.GetBytes(value, span[3..]);
        return this;
    }

    /// <summary>Null marker (0x05, section 2.7).</summary>
    public Amf0Writer Null()
    {
        Reserve(1)[0] = 0x05;
        return this;
    }

    /// <summary>Object marker (0x03, section 2.5); follow with <see cref="Property"/> pairs and <see cref="EndObject"/>.</summary>
    public Amf0Writer BeginObject()
    {
        Reserve(1)[0] = 0x03;
        return this;
    }

    /// <summary>A property name (UTF-8 with a 16-bit length, no marker) inside an object.</summary>
    public Amf0Writer Property(string name)
    {
        var count = Encoding.UTF8.GetByteCount(name);
        var span = Reserve(2 + count);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)count);
        Encoding.UTF8.GetBytes(name, span[2..]);
        return this;
    }

    /// <summary>The empty name and the object-end marker (0x00 0x00 0x09).</summary>
    public Amf0Writer EndObject()
    {
        var span = Reserve(3);
        span[0] = 0;
        span[1] = 0;
        span[2] = 0x09;
        return this;
    }

    private Span<byte> Reserve(int count)
    {
        if (Length + count > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + count));
        var span = _buffer.AsSpan(Length, count);
        Length += count;
        return span;
    }
}

/// <summary>
/// Reads AMF0 values from a command or data message (Adobe's AMF0 specification, section 2): what a client needs from
/// the server's answers (<c>_result</c>, <c>_error</c>, <c>onStatus</c>, <c>onMetaData</c>). Unsupported markers (AMF3
/// switch, references, typed objects) end the read with false.
/// </summary>
internal ref struct Amf0Reader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    /// <summary>Offset of the next value.</summary>
    public int Position { get; private set; }

    /// <summary>True when values are left.</summary>
    public readonly bool HasMore => Position < _data.Length;

    /// <summary>Reads a string (0x02) or long string (0x0C).</summary>
    public bool TryReadString(out string value)
    {
        value = "";
        if (!TryString(_data[Position..], out value, out var size)) return false;
        Position += size;
        return true;
    }

    /// <summary>Reads a number (0x00).</summary>
    public bool TryReadNumber(out double value)
    {
        value = 0;
        if (_data.Length - Position < 9 || _data[Position] != 0x00) return false;
        value = BinaryPrimitives.ReadDoubleBigEndian(_data[(Position + 1)..]);
        Position += 9;
        return true;
    }

    /// <summary>Skips one value of any supported type.</summary>
    public bool TrySkip()
    {
        var size = ValueSize(_data[Position..]);
        if (size <= 0) return false;
        Position += size;
        return true;
    }

    /// <summary>
    /// Reads the object (0x03) or ECMA array (0x08) that comes next and returns the string, number or boolean value of
    /// each property <paramref name="visit"/> is given, by name; the reader moves past the whole object.
    /// </summary>
    public bool TryReadObject(Action<string, object?> visit)
    {
        var span = _data[Position..];
        if (span.Length < 1) return false;
        var offset = span[0] switch { 0x03 => 1, 0x08 => 5, _ => -1 };
        if (offset < 0 || span.Length < offset) return false;
        while (true)
        {
            if (span.Length - offset < 2) return false;
            var nameLength = BinaryPrimitives.ReadUInt16BigEndian(span[offset..]);
            if (nameLength == 0)
            {
                if (span.Length - offset < 3 || span[offset + 2] != 0x09) return false;
                Position += offset + 3;
                return true;
            }
            if (span.Length - offset - 2 < nameLength) return false;
            var name = Encoding.UTF8.GetString(span.Slice(offset + 2, nameLength));
            offset += 2 + nameLength;
            var value = span[offset..];
            var size = ValueSize(value);
            if (size <= 0) return false;
            visit(name, value[0] switch
            {
                0x00 => BinaryPrimitives.ReadDoubleBigEndian(value[1..]),
                0x01 => value[1] != 0,
                0x02 or 0x0C when TryString(value, out var text, out _) => text,
                _ => null,
            });
            offset += size;
        }
    }

    private static bool TryString(ReadOnlySpan<byte> span, out string value, out int size)
    {
        value = "";
        size = 0;
        if (span.Length >= 3 && span[0] == 0x02)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(span[1..]);
            if (span.Length - 3 < length) return false;
            value = Encoding.UTF8.GetString(span.Slice(3, length));
            size = 3 + length;
            return true;
        }
        if (span.Length >= 5 && span[0] == 0x0C)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(span[1..]);
            if ((ulong)(span.Length - 5) < length) return false;
            value = Encoding.UTF8.GetString(span.Slice(5, (int)length));
            size = 5 + (int)length;
            return true;
        }
        return false;
    }

    /// <summary>Size in bytes of the value at the start of <paramref name="span"/>, marker included; 0 or less when it is
    /// cut short or of an unsupported type (as FFmpeg's <c>ff_amf_tag_size</c>).</summary>
    internal static int ValueSize(ReadOnlySpan<byte> span, int depth = 0)
    {
        if (span.IsEmpty || depth > 32) return 0;
        switch (span[0])
        {
            case 0x00: return span.Length >= 9 ? 9 : 0;
            case 0x01: return span.Length >= 2 ? 2 : 0;
            case 0x02: return span.Length >= 3 && span.Length >= 3 + BinaryPrimitives.ReadUInt16BigEndian(span[1..]) ? 3 + BinaryPrimitives.ReadUInt16BigEndian(span[1..]) : 0;
            case 0x0C:
                if (span.Length < 5) return 0;
                var longLength = BinaryPrimitives.ReadUInt32BigEndian(span[1..]);
                return (ulong)(span.Length - 5) >= longLength ? 5 + (int)longLength : 0;
            case 0x05: case 0x06: return 1; // null, undefined
            case 0x0B: return span.Length >= 11 ? 11 : 0; // date: double + 16-bit time zone
            case 0x03: case 0x08:
            {
                var offset = span[0] == 0x03 ? 1 : 5;
                while (true)
                {
                    if (span.Length - offset < 2) return 0;
                    var nameLength = BinaryPrimitives.ReadUInt16BigEndian(span[offset..]);
                    if (nameLength == 0)
                        return span.Length - offset >= 3 && span[offset + 2] == 0x09 ? offset + 3 : 0;
                    offset += 2 + nameLength;
                    if (offset > span.Length) return 0;
                    var size = ValueSize(span[offset..], depth + 1);
                    if (size <= 0) return 0;
                    offset += size;
                }
            }
            case 0x0A: // strict array: count, then values
            {
                if (span.Length < 5) return 0;
                var count = BinaryPrimitives.ReadUInt32BigEndian(span[1..]);
                var offset = 5;
                for (uint i = 0; i < count; i++)
                {
                    var size = ValueSize(span[offset..], depth + 1);
                    if (size <= 0) return 0;
                    offset += size;
                }
                return offset;
            }
            default: return 0;
        }
    }
}
