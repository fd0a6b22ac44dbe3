namespace CatEvening.FFmpegInterop.Rtmp;

/// <summary>
/// Publishes a live stream to an RTMP server from the FLV byte stream FFmpeg's FLV muxer writes, as FFmpeg's
/// <c>rtmp</c> protocol does (libavformat/rtmpproto.c, <c>rtmp_write</c>): the 13-byte FLV file header is dropped, each
/// tag becomes one message with the tag's type and 32-bit timestamp (video on chunk stream 6, audio and data on 4), the
/// stream's metadata (<c>onMetaData</c>) gets the <c>@setDataFrame</c> prefix servers expect, and back pointers are dropped. A tag that arrives
/// whole goes out without a copy of its own; one split across writes is gathered first. Every message is one
/// <c>send</c>. What the server sends meanwhile (pings, acknowledgement windows, a status error) is read when it is
/// waiting, at most every <see cref="IncomingCheckInterval"/> ms.
/// </summary>
internal sealed class RtmpPublishSession : IDisposable
{
    /// <summary>How often (ms) the server's messages are looked for while publishing (one <c>ioctl</c> each).</summary>
    public const long IncomingCheckInterval = 50;

    private static readonly byte[] SetDataFrame = [0x02, 0x00, 0x0D, .. "@setDataFrame"u8];

    private readonly RtmpConnection _connection;
    private readonly string _streamName;
    private uint _streamId;
    private int _skip = 13;                // the FLV header, then each tag's 4-byte back pointer
    private readonly byte[] _header = new byte[11];
    private int _headerFilled;
    private byte[] _body = new byte[64 * 1024];
    private int _bodyLength;
    private int _bodyFilled;
    private long _nextIncomingCheck;
    private bool _published;

    private RtmpPublishSession(RtmpConnection connection, string streamName)
    {
        _connection = connection;
        _streamName = streamName;
    }

    /// <summary>Connects and publishes <see cref="RtmpUrl.StreamName"/> as a live stream; returns once the server said
    /// <c>NetStream.Publish.Start</c>.</summary>
    /// <exception cref="RtmpException">Connection, handshake, or the server's refusal (connect: <see cref="AvError.NotPermitted"/>;
    /// publish, e.g. a name already publishing: <see cref="AvError.InputOutput"/>, worth another try).</exception>
    public static RtmpPublishSession Open(RtmpUrl url, InterruptGuard interrupt, string urlText) =>
        RtmpConnection.OpenSession(url, interrupt, urlText, c => new RtmpPublishSession(c, url.StreamName), s => s.Start(url));

    private void Start(RtmpUrl url)
    {
        RtmpCommands.Connect(_connection, url, publish: true);
        _connection.Amf.Clear().String("releaseStream").Number(2).Null().String(url.StreamName);
        _connection.SendCommand();
        _connection.Amf.Clear().String("FCPublish").Number(3).Null().String(url.StreamName);
        _connection.SendCommand();
        _streamId = RtmpCommands.CreateStream(_connection, 4);
        _connection.Amf.Clear().String("publish").Number(5).Null().String(url.StreamName).String("live");
        _connection.SendCommand(_streamId, RtmpConnection.SourceChunkStream);
        while (true)
        {
            var message = _connection.Receive();
            if (message.Type != RtmpMessageType.CommandAmf0) continue;
            var answer = RtmpCommands.Read(message.Payload);
            if (answer.Name == "_error" && answer.Transaction == 5 || answer.Name == "onStatus" && answer.Level == "error")
                throw new RtmpException($"the server refused to publish '{url.StreamName}': {RtmpCommands.Describe(answer)}", AvError.InputOutput);
            if (answer.Name == "onStatus" && answer.Code == "NetStream.Publish.Start") break;
        }
        _published = true;
        _nextIncomingCheck = Environment.TickCount64 + IncomingCheckInterval;
    }

    /// <summary>Takes the next bytes of the FLV stream and sends every tag they complete.</summary>
    /// <exception cref="RtmpException">The connection failed, the server reported an error, or a tag is malformed.</exception>
    public void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_skip > 0)
            {
                var skip = Math.Min(_skip, data.Length);
                data = data[skip..];
                _skip -= skip;
                continue;
            }
            if (_headerFilled < 11)
            {
                // A whole tag in this write goes out straight from FFmpeg's buffer.
                if (_headerFilled == 0 && data.Length >= 11)
                {
                    var size = BodySize(data);
                    if (data.Length >= 11 + size)
                    {
                        SendTag(data[..11], data.Slice(11, size));
                        data = data[(11 + size)..];
                        _skip = 4;
                        continue;
                    }
                }
                var take = Math.Min(11 - _headerFilled, data.Length);
                data[..take].CopyTo(_header.AsSpan(_headerFilled));
                _headerFilled += take;
                data = data[take..];
                if (_headerFilled < 11) return;
                _bodyLength = BodySize(_header);
                _bodyFilled = 0;
                if (_body.Length < _bodyLength) _body = new byte[Math.Max(_bodyLength, _body.Length * 2)];
            }
            var part = Math.Min(_bodyLength - _bodyFilled, data.Length);
            data[..part].CopyTo(_body.AsSpan(_bodyFilled));
            _bodyFilled += part;
            data = data[part..];
            if (_bodyFilled < _bodyLength) return;
            SendTag(_header, _body.AsSpan(0, _bodyLength));
            _headerFilled = 0;
            _skip = 4;
        }
        if (Environment.TickCount64 >= _nextIncomingCheck) ReadIncoming();
    }

    private static int BodySize(ReadOnlySpan<byte> header) => (header[1] << 16) | (header[2] << 8) | header[3];

    private void SendTag(ReadOnlySpan<byte> header, ReadOnlySpan<byte> body)
    {
        var type = header[0];
        var timestamp = (uint)((header[4] << 16) | (header[5] << 8) | header[6] | (header[7] << 24));
        var chunkStream = type == RtmpMessageType.Video ? RtmpConnection.VideoChunkStream : RtmpConnection.AudioChunkStream;
        var prefix = type == RtmpMessageType.DataAmf0 && IsStreamMetadata(body) ? SetDataFrame : default(ReadOnlySpan<byte>);
        _connection.SendMessage(chunkStream, type, timestamp, _streamId, prefix, body);
    }

    // FFmpeg's rtmp_write: only the stream's metadata (onMetaData, |RtmpSampleAccess) is set with @setDataFrame; other data
    // (onTextData captions, onCuePoint) goes as it is, or nginx-rtmp would take a caption for the stream's metadata.
    internal static bool IsStreamMetadata(ReadOnlySpan<byte> body) =>
        body.StartsWith("\x02\x00\x0AonMetaData"u8) || body.StartsWith("\x02\x00\x11|RtmpSampleAccess"u8);

    /// <summary>
    /// For a publishing session nothing was written to for a while (its source is down): answers what the server sent
    /// meanwhile (pings; only while the socket takes an answer at once, so the check never waits on a server that stopped
    /// reading) and finds out whether the server closed the connection, which the next write would otherwise be the first
    /// to learn.
    /// </summary>
    /// <exception cref="RtmpException">The server closed the connection, the socket failed, or the server stopped the publishing.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">The socket failed while polled.</exception>
    public void CheckIdle()
    {
        if (_connection.CanSendNow) ReadIncoming();
        _connection.ThrowIfClosed();
    }

    // Answers what the server sent (the connection answers pings itself); a status error ends the publishing.
    private void ReadIncoming()
    {
        _nextIncomingCheck = Environment.TickCount64 + IncomingCheckInterval;
        while (_connection.TryReceiveWaiting(out var message))
        {
            if (message.Type != RtmpMessageType.CommandAmf0) continue;
            var answer = RtmpCommands.Read(message.Payload);
            if (answer.Name is "onStatus" or "_error" && answer.Level == "error")
                throw new RtmpException($"the server stopped the publishing of '{_streamName}': {RtmpCommands.Describe(answer)}", AvError.InputOutput);
        }
    }

    /// <summary>Says goodbye (FCUnpublish and deleteStream, best effort, as FFmpeg's <c>rtmp_close</c>) and closes.</summary>
    public void Dispose()
    {
        try
        {
            if (_published)
            {
                _connection.Amf.Clear().String("FCUnpublish").Number(6).Null().String(_streamName);
                _connection.SendCommand();
            }
            if (_streamId != 0)
            {
                _connection.Amf.Clear().String("deleteStream").Number(7).Null().Number(_streamId);
                _connection.SendCommand();
            }
        }
        catch (RtmpException)
        {
            // The connection is already gone.
        }
        _connection.Dispose();
    }
}
