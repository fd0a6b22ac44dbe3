using System.Buffers.Binary;

namespace CatEvening.FFmpegInterop.Rtmp;

/// <summary>RTMP message type ids (Adobe RTMP specification 1.0, sections 5.4 and 7.1).</summary>
internal static class RtmpMessageType
{
    public const byte SetChunkSize = 1;
    public const byte Abort = 2;
    public const byte Acknowledgement = 3;
    public const byte UserControl = 4;
    public const byte WindowAcknowledgementSize = 5;
    public const byte SetPeerBandwidth = 6;
    public const byte Audio = 8;
    public const byte Video = 9;
    public const byte DataAmf3 = 15;
    public const byte CommandAmf3 = 17;
    public const byte DataAmf0 = 18;
    public const byte CommandAmf0 = 20;
    public const byte Aggregate = 22;
}

/// <summary>One whole RTMP message as reassembled from its chunks. <see cref="Payload"/> is valid until the decoder's next call.</summary>
internal readonly ref struct RtmpMessage(int chunkStreamId, byte type, uint timestamp, uint streamId, ReadOnlySpan<byte> payload)
{
    /// <summary>Chunk stream the message came on (2 for protocol control).</summary>
    public int ChunkStreamId { get; } = chunkStreamId;

    /// <summary>Message type id (<see cref="RtmpMessageType"/>).</summary>
    public byte Type { get; } = type;

    /// <summary>Timestamp in ms, 32 bits (section 5.3.1.2: deltas added, wrapping).</summary>
    public uint Timestamp { get; } = timestamp;

    /// <summary>Message stream id (0 for the connection's own messages).</summary>
    public uint StreamId { get; } = streamId;

    /// <summary>The message body.</summary>
    public ReadOnlySpan<byte> Payload { get; } = payload;
}

/// <summary>
/// Reassembles RTMP messages from the chunk stream (RTMP specification 1.0, section 5.3: basic header of 1-3 bytes, a
/// message header of type 0/1/2/3 with 11/7/3/0 bytes, an extended timestamp when the 24-bit field is 0xFFFFFF, then at
/// most the chunk size of body). Chunk streams interleave; each keeps its last header and a reused body buffer, so
/// steady reading allocates nothing. Timestamps follow FFmpeg's <c>rtmppkt.c</c>: type 0 is absolute, types 1-3 add
/// their field (or the extended value) to the chunk stream's previous timestamp; the continuation chunks of a message
/// keep its first chunk's timestamp.
/// </summary>
internal sealed class RtmpChunkDecoder
{
    /// <summary>Largest message body accepted (the 24-bit length field's limit).</summary>
    public const int MaxMessageLength = 0xFFFFFF;

    private readonly Dictionary<int, ChunkStream> _streams = [];
    private ChunkStream? _current;       // the chunk stream whose chunk body is being read
    private int _chunkLeft;              // body bytes of that chunk still to read
    private int _chunkSize = 128;        // section 5.4.1: 128 until the peer sets another

    /// <summary>The peer's chunk size (bytes of body per chunk), set by its Set Chunk Size message.</summary>
    public int ChunkSize
    {
        get => _chunkSize;
        set => _chunkSize = value is >= 1 and <= 0x7FFFFFFF ? value : throw new RtmpException($"chunk size {value} out of range 1..2^31-1", AvError.InvalidData);
    }

    /// <summary>Drops the partly received message of chunk stream <paramref name="chunkStreamId"/> (Abort message, section 5.4.2).</summary>
    public void Abort(int chunkStreamId)
    {
        if (!_streams.TryGetValue(chunkStreamId, out var stream)) return;
        stream.InProgress = false;
        stream.Filled = 0;
        if (_current != stream) return;
        _current = null;
        _chunkLeft = 0;
    }

    /// <summary>
    /// Consumes chunks from <paramref name="data"/> (starting at <paramref name="offset"/>, which moves past what was used)
    /// until one message is complete.
    /// </summary>
    /// <returns>True with <paramref name="message"/> when a message completed; false when <paramref name="data"/> ran out first
    /// (a chunk header cut short is left unconsumed for the next call).</returns>
    /// <exception cref="RtmpException">A chunk refers to a chunk stream with no previous header, or a length is out of range.</exception>
    public bool TryDecode(ReadOnlySpan<byte> data, scoped ref int offset, out RtmpMessage message)
    {
        message = default;
        while (true)
        {
            if (_current == null)
            {
                var used = ReadHeader(data[offset..]);
                if (used == 0) return false;
                offset += used;
            }
            var stream = _current!;
            var take = Math.Min(_chunkLeft, data.Length - offset);
            if (take > 0)
            {
                data.Slice(offset, take).CopyTo(stream.Body.AsSpan(stream.Filled));
                stream.Filled += take;
                offset += take;
                _chunkLeft -= take;
            }
            if (_chunkLeft > 0) return false;
            _current = null;
            if (stream.Filled == stream.Length)
            {
                stream.InProgress = false;
                stream.Filled = 0;
                message = new RtmpMessage(stream.Id, stream.Type, stream.Timestamp, stream.StreamId, stream.Body.AsSpan(0, stream.Length));
                return true;
            }
        }
    }

    // Section 5.3.1: parses one chunk header; returns its size, or 0 when the data ends inside it (nothing consumed).
    private int ReadHeader(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return 0;
        var format = data[0] >> 6;
        int id = data[0] & 0x3F, position = 1;
        if (id == 0)
        {
            if (data.Length < 2) return 0;
            id = 64 + data[1];
            position = 2;
        }
        else if (id == 1)
        {
            if (data.Length < 3) return 0;
            id = 64 + data[1] + (data[2] << 8);
            position = 3;
        }
        var headerLength = format switch { 0 => 11, 1 => 7, 2 => 3, _ => 0 };
        if (data.Length < position + headerLength) return 0;
        var header = data.Slice(position, headerLength);
        if (!_streams.TryGetValue(id, out var stream))
        {
            if (format != 0) throw new RtmpException($"a type {format} chunk header on chunk stream {id}, which has had no type 0 header", AvError.InvalidData);
            stream = new ChunkStream(id);
            _streams[id] = stream;
        }
        var field = format == 3 ? stream.TimestampField : (uint)((header[0] << 16) | (header[1] << 8) | header[2]);
        int length = stream.Length;
        var type = stream.Type;
        if (format <= 1)
        {
            length = (header[3] << 16) | (header[4] << 8) | header[5];
            type = header[6];
        }
        var streamId = format == 0 ? BinaryPrimitives.ReadUInt32LittleEndian(header[7..]) : stream.StreamId;
        position += headerLength;
        var timestamp = field;
        if (field == 0xFFFFFF)
        {
            if (data.Length < position + 4) return 0;
            timestamp = BinaryPrimitives.ReadUInt32BigEndian(data[position..]);
            position += 4;
        }
        // Only now, with the whole header at hand, does the chunk stream change.
        if (!stream.InProgress)
        {
            if (length > MaxMessageLength) throw new RtmpException($"message length {length} on chunk stream {id} out of range", AvError.InvalidData);
            stream.Timestamp = format == 0 ? timestamp : stream.Timestamp + timestamp;
            stream.TimestampField = field;
            stream.Length = length;
            stream.Type = type;
            stream.StreamId = streamId;
            stream.Filled = 0;
            stream.InProgress = true;
            if (stream.Body.Length < length) stream.Body = new byte[Math.Max(length, Math.Min(stream.Body.Length * 2, MaxMessageLength))];
        }
        _current = stream;
        _chunkLeft = Math.Min(_chunkSize, stream.Length - stream.Filled);
        return position;
    }

    private sealed class ChunkStream(int id)
    {
        public int Id { get; } = id;
        public uint Timestamp;
        public uint TimestampField;
        public int Length;
        public byte Type;
        public uint StreamId;
        public byte[] Body = new byte[256];
        public int Filled;
        public bool InProgress;
    }
}

/// <summary>
/// Splits RTMP messages into chunks (RTMP specification 1.0, section 5.3): a type 0 header on the first chunk (absolute
/// timestamp, length, type, message stream id), type 3 headers on the rest, and the extended timestamp after every
/// header when the timestamp does not fit 24 bits (as FFmpeg's <c>ff_rtmp_packet_write</c> and nginx-rtmp write it).
/// </summary>
internal static class RtmpChunkEncoder
{
    /// <summary>Bytes <see cref="Encode"/> writes for a body of <paramref name="length"/> bytes.</summary>
    public static int EncodedLength(int chunkStreamId, uint timestamp, int length, int chunkSize)
    {
        var basic = chunkStreamId < 64 ? 1 : chunkStreamId < 320 ? 2 : 3;
        var extended = timestamp >= 0xFFFFFF ? 4 : 0;
        var chunks = Math.Max(1, (length + chunkSize - 1) / chunkSize);
        return basic + 11 + extended + length + ((chunks - 1) * (basic + extended));
    }

    /// <summary>
    /// Writes one message, body <paramref name="prefix"/> then <paramref name="body"/>, into <paramref name="destination"/>,
    /// which must hold <see cref="EncodedLength"/> bytes.
    /// </summary>
    /// <returns>The bytes written.</returns>
    public static int Encode(Span<byte> destination, int chunkStreamId, byte type, uint timestamp, uint streamId,
        ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body, int chunkSize)
    {
        var length = prefix.Length + body.Length;
        if (length > RtmpChunkDecoder.MaxMessageLength) throw new RtmpException($"message of {length} bytes is longer than RTMP carries (16 MiB)", AvError.InvalidArgument);
        var position = BasicHeader(destination, 0, chunkStreamId);
        var field = Math.Min(timestamp, 0xFFFFFFu);
        destination[position++] = (byte)(field >> 16);
        destination[position++] = (byte)(field >> 8);
        destination[position++] = (byte)field;
        destination[position++] = (byte)(length >> 16);
        destination[position++] = (byte)(length >> 8);
        destination[position++] = (byte)length;
        destination[position++] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[position..], streamId);
        position += 4;
        if (field == 0xFFFFFF)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[position..], timestamp);
            position += 4;
        }
        var sent = 0;
        while (true)
        {
            var take = Math.Min(chunkSize, length - sent);
            // The chunk's body may straddle the prefix and the body.
            var fromPrefix = Math.Clamp(prefix.Length - sent, 0, take);
            if (fromPrefix > 0) prefix.Slice(sent, fromPrefix).CopyTo(destination[position..]);
            body.Slice(sent + fromPrefix - prefix.Length, take - fromPrefix).CopyTo(destination[(position + fromPrefix)..]);
            position += take;
            sent += take;
            if (sent >= length) return position;
            position = BasicHeader(destination, position, chunkStreamId, format: 3);
            if (field == 0xFFFFFF)
            {
                BinaryPrimitives.WriteUInt32BigEndian(destination[position..], timestamp);
                position += 4;
            }
        }
    }

    private static int BasicHeader(Span<byte> destination, int position, int id, int format = 0)
    {
        if (id < 64)
        {
            destination[position++] = (byte)((format << 6) | id);
        }
        else if (id < 320)
        {
            destination[position++] = (byte)(format << 6);
            destination[position++] = (byte)(id - 64);
        }
        else
        {
            destination[position++] = (byte)((format << 6) | 1);
            destination[position++] = (byte)(id - 64);
            destination[position++] = (byte)((id - 64) >> 8);
        }
        return position;
    }
}

/// <summary>
/// A failure of the managed RTMP client: the connection, the handshake, the server's refusal or a malformed chunk
/// stream. <see cref="ErrorCode"/> is the <c>AVERROR</c> FFmpeg's own RTMP protocol gives in the same case, so callers
/// judge retries the same way (<see cref="AvError.IsConfigurationError"/>).
/// </summary>
public sealed class RtmpException(string message, int errorCode, Exception? innerException = null) : Exception(message, innerException)
{
    /// <summary>The negative <c>AVERROR</c> code this failure maps to.</summary>
    public int ErrorCode { get; } = errorCode;
}
