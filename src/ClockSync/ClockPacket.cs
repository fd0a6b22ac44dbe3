using System.Buffers.Binary;

namespace CatEvening.ClockSync;

/// <summary>Whether a clock datagram is a request or a response.</summary>
public enum ClockPacketType : byte
{
    /// <summary>Client to server: carries t0.</summary>
    Request = 1,

    /// <summary>Server to client: t0 echoed, t1 and t2 filled in.</summary>
    Response = 2,
}

/// <summary>
/// One datagram of the CatEvening clock protocol, the NTP four-timestamp exchange in a fixed 40-byte layout
/// (all integers big-endian, times in microseconds since the Unix epoch):
/// <code>
///  0       4   5    6        8                16          24          32          40
///  | "CECK" | v | ty | 0 0    | sequence (u64) | t0 (i64)  | t1 (i64)  | t2 (i64)  |
/// </code>
/// A request has t1 = t2 = 0; requests and responses have the same size, so a server never sends more than it
/// received (no amplification). Version 1.
/// </summary>
public readonly record struct ClockPacket(ClockPacketType Type, ulong Sequence, long T0, long T1, long T2)
{
    /// <summary>Size of every clock datagram in bytes.</summary>
    public const int Size = 40;

    /// <summary>Protocol version written and accepted.</summary>
    public const byte Version = 1;

    private static ReadOnlySpan<byte> Magic => "CECK"u8;

    /// <summary>Writes the packet into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="Size"/>.</exception>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"need {Size} bytes, got {destination.Length}", nameof(destination));
        Magic.CopyTo(destination);
        destination[4] = Version;
        destination[5] = (byte)Type;
        destination[6] = 0;
        destination[7] = 0;
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Sequence);
        BinaryPrimitives.WriteInt64BigEndian(destination[16..], T0);
        BinaryPrimitives.WriteInt64BigEndian(destination[24..], T1);
        BinaryPrimitives.WriteInt64BigEndian(destination[32..], T2);
    }

    /// <summary>
    /// Reads a datagram; false with the reason for anything that is not exactly one well-formed version-1 packet.
    /// Never throws.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> datagram, out ClockPacket packet, out string? error)
    {
        packet = default;
        if (datagram.Length != Size)
        {
            error = $"datagram is {datagram.Length} bytes, expected {Size}";
            return false;
        }
        if (!datagram[..4].SequenceEqual(Magic))
        {
            error = "bytes 0-3 are not the magic \"CECK\"";
            return false;
        }
        if (datagram[4] != Version)
        {
            error = $"byte 4: version {datagram[4]}, expected {Version}";
            return false;
        }
        if (datagram[5] is not ((byte)ClockPacketType.Request or (byte)ClockPacketType.Response))
        {
            error = $"byte 5: type {datagram[5]} is neither request (1) nor response (2)";
            return false;
        }
        packet = new ClockPacket((ClockPacketType)datagram[5], BinaryPrimitives.ReadUInt64BigEndian(datagram[8..]),
            BinaryPrimitives.ReadInt64BigEndian(datagram[16..]), BinaryPrimitives.ReadInt64BigEndian(datagram[24..]),
            BinaryPrimitives.ReadInt64BigEndian(datagram[32..]));
        error = null;
        return true;
    }
}
