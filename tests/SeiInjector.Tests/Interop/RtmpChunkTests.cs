using System.Buffers.Binary;
using CatEvening.FFmpegInterop;
using CatEvening.FFmpegInterop.Rtmp;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Interop;

/// <summary>The managed RTMP client's chunk stream, AMF0 and URL rules, against the specification's cases.</summary>
[TestFixture]
public class RtmpChunkTests
{
    private sealed record Sent(int ChunkStream, byte Type, uint Timestamp, uint StreamId, byte[] Body);

    private static byte[] Encode(IEnumerable<Sent> messages, int chunkSize)
    {
        var stream = new MemoryStream();
        foreach (var m in messages)
        {
            var buffer = new byte[RtmpChunkEncoder.EncodedLength(m.ChunkStream, m.Timestamp, m.Body.Length, chunkSize)];
            var written = RtmpChunkEncoder.Encode(buffer, m.ChunkStream, m.Type, m.Timestamp, m.StreamId, default, m.Body, chunkSize);
            Assert.That(written, Is.EqualTo(buffer.Length), "EncodedLength and Encode disagree");
            stream.Write(buffer);
        }
        return stream.ToArray();
    }

    // Feeds the bytes in pieces of the given sizes (cycled), as a socket would hand them over.
    private static List<Sent> Decode(byte[] bytes, int chunkSize, int[] pieces)
    {
        var decoder = new RtmpChunkDecoder { ChunkSize = chunkSize };
        var received = new List<Sent>();
        var buffer = new byte[bytes.Length];
        int start = 0, end = 0, fed = 0, piece = 0;
        while (true)
        {
            var offset = start;
            if (decoder.TryDecode(buffer.AsSpan(0, end), ref offset, out var message))
            {
                start = offset;
                received.Add(new Sent(message.ChunkStreamId, message.Type, message.Timestamp, message.StreamId, message.Payload.ToArray()));
                continue;
            }
            start = offset;
            if (fed == bytes.Length) return received;
            var take = Math.Min(pieces[piece++ % pieces.Length], bytes.Length - fed);
            bytes.AsSpan(fed, take).CopyTo(buffer.AsSpan(end));
            fed += take;
            end += take;
        }
    }

    private static byte[] Body(int length, int seed)
    {
        var body = new byte[length];
        new Random(seed).NextBytes(body);
        return body;
    }

    [TestCase(128, new[] { 1 })]
    [TestCase(128, new[] { 7, 1, 300 })]
    [TestCase(4096, new[] { 65536 })]
    [TestCase(4096, new[] { 3, 5000, 11 })]
    [TestCase(60000, new[] { 1000 })]
    public void Messages_SplitIntoChunks_ComeBackWhole_HoweverTheBytesArrive(int chunkSize, int[] pieces)
    {
        Sent[] messages =
        [
            new(4, RtmpMessageType.Audio, 0, 1, Body(0, 0)),
            new(6, RtmpMessageType.Video, 33, 1, Body(150_000, 1)),
            new(4, RtmpMessageType.Audio, 40, 1, Body(371, 2)),
            new(6, RtmpMessageType.Video, 0xFFFFFE, 1, Body(9000, 3)),         // just under the extended timestamp
            new(6, RtmpMessageType.Video, 0xFFFFFF, 1, Body(9000, 4)),         // the first extended one
            new(6, RtmpMessageType.Video, 0xFFFFFFFF, 1, Body(chunkSize * 3, 5)), // the largest, over whole chunks
            new(70, RtmpMessageType.DataAmf0, 5, 1, Body(10, 6)),              // a two-byte basic header
            new(400, RtmpMessageType.DataAmf0, 6, 7, Body(4097, 7)),           // a three-byte basic header
        ];
        var received = Decode(Encode(messages, chunkSize), chunkSize, pieces);
        Assert.That(received, Has.Count.EqualTo(messages.Length));
        for (var i = 0; i < messages.Length; i++)
        {
            var (sent, got) = (messages[i], received[i]);
            Assert.That((got.ChunkStream, got.Type, got.Timestamp, got.StreamId), Is.EqualTo((sent.ChunkStream, sent.Type, sent.Timestamp, sent.StreamId)), $"message {i}");
            Assert.That(got.Body, Is.EqualTo(sent.Body), $"message {i}'s body");
        }
    }

    [Test]
    public void ExtendedTimestamp_IsRepeatedAfterEveryContinuationHeader()
    {
        // Section 5.3.1.3 as FFmpeg and nginx-rtmp write it: the 4 bytes follow the type 3 headers too.
        var bytes = Encode([new Sent(6, RtmpMessageType.Video, 0x01020304, 1, Body(300, 1))], 128);
        Assert.Multiple(() =>
        {
            Assert.That(bytes, Has.Length.EqualTo(1 + 11 + 4 + 300 + (2 * (1 + 4))));
            Assert.That(bytes.AsSpan(1, 3).ToArray(), Is.EqualTo(new byte[] { 0xFF, 0xFF, 0xFF }));
            Assert.That(BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(12)), Is.EqualTo(0x01020304u));
            Assert.That(bytes[1 + 11 + 4 + 128], Is.EqualTo(0xC6), "a type 3 header on chunk stream 6");
            Assert.That(BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(1 + 11 + 4 + 128 + 1)), Is.EqualTo(0x01020304u));
        });
    }

    [Test]
    public void DeltaHeaders_AddToTheChunkStreamsTime_AsFFmpegReadsThem()
    {
        // Type 0 at 1000 ms (length 2, video, stream 1); type 2 with delta 33; type 3 starting a new message repeats the
        // delta; type 1 with delta 40 and a new length; an interleaved chunk stream keeps its own time.
        byte[] bytes =
        [
            0x06, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x02, 0x09, 0x01, 0x00, 0x00, 0x00, 0xAA, 0xBB,
            0x86, 0x00, 0x00, 0x21, 0xCC, 0xDD,
            0x04, 0x00, 0x00, 0x05, 0x00, 0x00, 0x01, 0x08, 0x01, 0x00, 0x00, 0x00, 0x11,
            0xC6, 0xEE, 0xFF,
            0x46, 0x00, 0x00, 0x28, 0x00, 0x00, 0x01, 0x09, 0x42,
        ];
        var received = Decode(bytes, 128, [1]);
        Assert.That(received.Select(m => (m.ChunkStream, m.Timestamp, m.Body.Length)), Is.EqualTo(new[]
        {
            (6, 1000u, 2), (6, 1033u, 2), (4, 5u, 1), (6, 1066u, 2), (6, 1106u, 1),
        }));
    }

    [Test]
    public void Abort_DropsThePartMessage_AndTheNextOneStartsClean()
    {
        var decoder = new RtmpChunkDecoder { ChunkSize = 128 };
        var first = Encode([new Sent(6, RtmpMessageType.Video, 10, 1, Body(300, 1))], 128);
        var offset = 0;
        // The first chunk only (header + 128 bytes), then the peer aborts the message.
        Assert.That(decoder.TryDecode(first.AsSpan(0, 12 + 128), ref offset, out _), Is.False);
        decoder.Abort(6);
        var next = Encode([new Sent(6, RtmpMessageType.Video, 20, 1, Body(5, 2))], 128);
        offset = 0;
        Assert.That(decoder.TryDecode(next, ref offset, out var message), Is.True);
        Assert.That((message.Timestamp, message.Payload.ToArray()), Is.EqualTo((20u, Body(5, 2))));
    }

    [Test]
    public void ContinuationWithoutAFirstHeader_IsAnErrorNamingTheChunkStream()
    {
        var decoder = new RtmpChunkDecoder();
        var offset = 0;
        var e = Assert.Throws<RtmpException>(() => decoder.TryDecode(new byte[] { 0xC5, 1, 2 }, ref offset, out _))!;
        Assert.That((e.Message, e.ErrorCode), Is.EqualTo(("a type 3 chunk header on chunk stream 5, which has had no type 0 header", AvError.InvalidData)));
    }

    [Test]
    public void Amf0_CommandAndStatus_RoundTrip()
    {
        var amf = new Amf0Writer().String("onStatus").Number(0).Null().BeginObject()
            .Property("level").String("error").Property("code").String("NetStream.Publish.BadName")
            .Property("description").String("Already publishing").Property("clientid").Number(1).EndObject();
        var answer = RtmpCommands.Read(amf.Written);
        Assert.That(answer, Is.EqualTo(new RtmpCommands.Answer("onStatus", 0, "error", "NetStream.Publish.BadName", "Already publishing", null)));
        Assert.That(RtmpCommands.Describe(answer), Is.EqualTo("NetStream.Publish.BadName (Already publishing)"));
        var result = RtmpCommands.Read(new Amf0Writer().String("_result").Number(4).Null().Number(1).Written);
        Assert.That((result.Name, result.Transaction, result.Number), Is.EqualTo(("_result", 4.0, (double?)1)));
        // Cut short anywhere, the reader stops instead of reading past the end.
        for (var cut = 0; cut < amf.Length; cut++) Assert.DoesNotThrow(() => RtmpCommands.Read(amf.Written[..cut].ToArray()));
    }

    [TestCase("onMetaData", true)]
    [TestCase("|RtmpSampleAccess", true)]
    [TestCase("onTextData", false)]
    [TestCase("onCuePoint", false)]
    public void SetDataFrame_PrefixesTheStreamsMetadataOnly_AsFFmpeg(string name, bool prefixed)
    {
        // nginx-rtmp stores a @setDataFrame message as the stream's metadata: a caption sent that way would replace it.
        var body = new Amf0Writer().String(name).BeginObject().Property("text").String("hello").EndObject();
        Assert.That(RtmpPublishSession.IsStreamMetadata(body.Written), Is.EqualTo(prefixed));
    }

    [TestCase("rtmp://127.0.0.1:19350/live/show", "127.0.0.1", 19350, "live", "show", "rtmp://127.0.0.1:19350/live")]
    [TestCase("rtmp://ingest.example/live/key?token=a&b=1", "ingest.example", 1935, "live", "key?token=a&b=1", "rtmp://ingest.example:1935/live")]
    [TestCase("rtmp://host/app/instance/stream", "host", 1935, "app/instance", "stream", "rtmp://host:1935/app/instance")]
    [TestCase("RTMP://[::1]:2000/live/s", "::1", 2000, "live", "s", "rtmp://[::1]:2000/live")]
    public void Url_IsSplitAsFFmpegSplitsIt(string url, string host, int port, string app, string stream, string tcUrl) =>
        Assert.That(RtmpUrl.TryParse(url, out var parsed) ? parsed : null, Is.EqualTo(new RtmpUrl(host, port, app, stream, tcUrl)));

    [TestCase("rtmps://host/live/s")]
    [TestCase("rtmp://user:pass@host/live/s")]
    [TestCase("rtmp://host/stream")]
    [TestCase("rtmp://host/live/")]
    [TestCase("rtmp://host/vod/mp4:clip")]
    [TestCase("rtmp://host/vod/clip.flv")]
    [TestCase("rtmp://host/ondemand/clip")]
    [TestCase("rtmp://host/live?slist=s")]
    [TestCase("rtmp://host/a/b/c/d")]
    [TestCase("rtmp://host:99999/live/s")]
    [TestCase("rtmp://host/live/key live=1")]
    public void Url_FormsWithFFmpegsSpecialRules_AreLeftToFFmpeg(string url) =>
        Assert.That(RtmpUrl.TryParse(url, out _), Is.False);
}
