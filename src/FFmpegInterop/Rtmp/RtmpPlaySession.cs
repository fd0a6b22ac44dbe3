using System.Buffers.Binary;

namespace CatEvening.FFmpegInterop.Rtmp;

/// <summary>
/// Plays a live stream from an RTMP server and hands it over as an FLV byte stream for FFmpeg's FLV demuxer, as
/// FFmpeg's <c>rtmp</c> protocol does (libavformat/rtmpproto.c: <c>rtmp_open</c>, <c>get_packet</c>,
/// <c>append_flv_data</c>, <c>handle_notify</c>, <c>handle_metadata</c>): an FLV header whose audio/video flags come
/// from the first metadata or media message, then one tag per audio, video or data message, aggregates split into
/// their tags with timestamps rebased on the message's.
/// </summary>
internal sealed class RtmpPlaySession : IDisposable
{
    private readonly RtmpConnection _connection;
    private uint _streamId;
    private byte[] _flv = new byte[256 * 1024];
    private int _flvStart;
    private int _flvEnd;
    private bool _hasAudio;
    private bool _hasVideo;
    private bool _hasMetadata;
    private bool _stopped;
    private string? _stopCode;
    private RtmpPlaySession(RtmpConnection connection) => _connection = connection;

    /// <summary>Connects, plays <see cref="RtmpUrl.StreamName"/> and reads until the stream's first metadata or media
    /// message, so the FLV header can say what it carries.</summary>
    /// <exception cref="RtmpException">Connection, handshake or the server's refusal.</exception>
    public static RtmpPlaySession Open(RtmpUrl url, InterruptGuard interrupt, string urlText) =>
        RtmpConnection.OpenSession(url, interrupt, urlText, c => new RtmpPlaySession(c), s => s.Start(url));

    private void Start(RtmpUrl url)
    {
        RtmpCommands.Connect(_connection, url, publish: false);
        // As FFmpeg after connect: the window we acknowledge at, then createStream, play (live or recorded, -2000) and the
        // client buffer length (3000 ms, rtmp_buffer's default).
        _streamId = RtmpCommands.CreateStream(_connection, 2);
        _connection.Amf.Clear().String("play").Number(3).Null().String(url.StreamName).Number(-2000);
        _connection.SendCommand(_streamId, RtmpConnection.SourceChunkStream);
        _connection.SendUserControl(3, _streamId, 3000);
        // FLV header "FLV", version 1, flags (set below), header size 9, then PreviousTagSize0.
        "FLV\x01\x00\x00\x00\x00\x09\x00\x00\x00\x00"u8.CopyTo(_flv);
        _flvEnd = 13;
        while (!_stopped && !_hasAudio && !_hasVideo && !_hasMetadata)
        {
            var message = _connection.Receive();
            if (message.Type == RtmpMessageType.CommandAmf0) HandleStatus(message);
            else Accept(message);
        }
        if (!_hasAudio && !_hasVideo && !_hasMetadata)
            throw new RtmpException($"the server stopped '{url.StreamName}' before any media ({_stopCode})", AvError.EndOfFile);
        _flv[4] = (byte)((_hasAudio ? 4 : 0) | (_hasVideo ? 1 : 0));
    }

    // onStatus: Play.Stop and UnpublishNotify end the stream (FFmpeg's STATE_STOPPED: end of
    // file once what is buffered is read); an error level is the server's refusal.
    private void HandleStatus(RtmpMessage message)
    {
        var answer = RtmpCommands.Read(message.Payload);
        if (answer.Name != "onStatus") return;
        if (answer.Level == "error")
            throw new RtmpException($"play: {RtmpCommands.Describe(answer)}", AvError.InputOutput);
        if (answer.Code is "NetStream.Play.Stop" or "NetStream.Play.UnpublishNotify")
        {
            _stopped = true;
            _stopCode = answer.Code;
        }
    }

    /// <summary>
    /// Copies up to <paramref name="destination"/>'s length of FLV bytes, reading from the server while none are buffered.
    /// </summary>
    /// <returns>Bytes copied; 0 once the server stopped the stream and everything was read.</returns>
    public int Read(Span<byte> destination)
    {
        while (_flvEnd == _flvStart)
        {
            if (_stopped) return 0;
            _flvStart = _flvEnd = 0;
            var message = _connection.Receive();
            if (message.Type == RtmpMessageType.CommandAmf0) HandleStatus(message);
            else Accept(message);
        }
        var count = Math.Min(destination.Length, _flvEnd - _flvStart);
        _flv.AsSpan(_flvStart, count).CopyTo(destination);
        _flvStart += count;
        return count;
    }

    // append_flv_data / handle_notify / handle_metadata.
    private void Accept(RtmpMessage message)
    {
        var payload = message.Payload;
        switch (message.Type)
        {
            case RtmpMessageType.Audio or RtmpMessageType.Video:
                if (payload.IsEmpty) return;
                if (message.Type == RtmpMessageType.Audio) _hasAudio = true;
                else _hasVideo = true;
                AppendTag(message.Type, message.Timestamp, payload);
                return;
            case RtmpMessageType.DataAmf0:
                AppendData(message.Timestamp, payload);
                return;
            case RtmpMessageType.Aggregate:
                AppendAggregate(message.Timestamp, payload);
                return;
        }
    }

    // handle_notify: only an onMetaData that comes as itself (not after @setDataFrame) with an ECMA array (AMF0 0x08)
    // is the metadata that names the streams, by the presence of videocodecid/audiocodecid. nginx-rtmp sends its
    // metadata as an anonymous object (0x03) listing audiocodecid 0 for a video-only stream: taken as metadata, the FLV
    // header would announce audio, and FFmpeg's FLV demuxer, waiting for that stream, probes a live input for up to
    // 90 s (max_stream_analyze_duration for flv) instead of 5 s. So such a message is passed on but does not set the
    // header; the header then follows the first media message, as with FFmpeg's client.
    private void AppendData(uint timestamp, ReadOnlySpan<byte> payload)
    {
        var reader = new Amf0Reader(payload);
        if (!reader.TryReadString(out var name)) return;
        if (name == "onMetaData" && reader.HasMore && payload[reader.Position] == 0x08)
        {
            _hasMetadata = true;
            reader.TryReadObject((key, _) =>
            {
                if (key == "videocodecid") _hasVideo = true;
                else if (key == "audiocodecid") _hasAudio = true;
            });
        }
        else if (name == "@setDataFrame")
        {
            payload = payload[reader.Position..];
            if (!new Amf0Reader(payload).TryReadString(out _)) return;
        }
        AppendTag(RtmpMessageType.DataAmf0, timestamp, payload);
    }

    // An aggregate message (type 22) is a run of FLV tags (11-byte header, body, 4-byte back pointer); each tag's time
    // is the message's plus its distance from the first tag's.
    private void AppendAggregate(uint timestamp, ReadOnlySpan<byte> payload)
    {
        uint? first = null;
        while (payload.Length >= 11)
        {
            var type = payload[0];
            var size = (payload[1] << 16) | (payload[2] << 8) | payload[3];
            var tagTime = (uint)((payload[4] << 16) | (payload[5] << 8) | payload[6] | (payload[7] << 24));
            if (payload.Length < 11 + size + 4) break;
            first ??= tagTime;
            var body = payload.Slice(11, size);
            if (type == RtmpMessageType.Audio) _hasAudio = true;
            else if (type == RtmpMessageType.Video) _hasVideo = true;
            AppendTag(type, timestamp + (tagTime - first.Value), body);
            payload = payload[(11 + size + 4)..];
        }
    }

    private void AppendTag(byte type, uint timestamp, ReadOnlySpan<byte> body)
    {
        var need = 11 + body.Length + 4;
        if (_flv.Length - _flvEnd < need)
        {
            if (_flvStart > 0)
            {
                _flv.AsSpan(_flvStart, _flvEnd - _flvStart).CopyTo(_flv);
                _flvEnd -= _flvStart;
                _flvStart = 0;
            }
            if (_flv.Length - _flvEnd < need) Array.Resize(ref _flv, Math.Max(_flv.Length * 2, _flvEnd + need));
        }
        var tag = _flv.AsSpan(_flvEnd, need);
        tag[0] = type;
        tag[1] = (byte)(body.Length >> 16);
        tag[2] = (byte)(body.Length >> 8);
        tag[3] = (byte)body.Length;
        tag[4] = (byte)(timestamp >> 16);
        tag[5] = (byte)(timestamp >> 8);
        tag[6] = (byte)timestamp;
        tag[7] = (byte)(timestamp >> 24);
        tag[8] = tag[9] = tag[10] = 0;
        body.CopyTo(tag[11..]);
        // PreviousTagSize: the tag's size, which FFmpeg's FLV demuxer checks.
        BinaryPrimitives.WriteUInt32BigEndian(tag[(11 + body.Length)..], (uint)(11 + body.Length));
        _flvEnd += need;
    }

    /// <summary>Says goodbye (deleteStream, best effort) and closes the connection.</summary>
    public void Dispose()
    {
        try
        {
            if (_streamId != 0)
            {
                _connection.Amf.Clear().String("deleteStream").Number(0).Null().Number(_streamId);
                _connection.SendCommand();
            }
        }
        catch (RtmpException)
        {
            // The connection is already gone: nothing to say goodbye to.
        }
        _connection.Dispose();
    }
}
