using System.Net;
using System.Net.Sockets;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Pipeline;

/// <summary>The live path: packets leave the injector as soon as they arrive, nothing is held back.</summary>
public class LivePathTests
{
    [Test]
    public void EveryVideoPacketRead_ReachesTheNetworkOutput_WhileTheInputIsStillStalled()
    {
        var clip = File.ReadAllBytes(TestMedia.Get(VideoProfile.H264Main, Container.Flv));
        var cut = TagBoundaryNear(clip, clip.Length / 2);
        var expectedVideoPackets = CountVideoPackets(clip.AsSpan(0, cut));

        using var input = new TcpListener(IPAddress.Loopback, 0);
        using var output = new TcpListener(IPAddress.Loopback, 0);
        input.Start();
        output.Start();
        using var stop = new CancellationTokenSource();
        var serve = Task.Run(async () =>
        {
            using var client = await input.AcceptTcpClientAsync();
            await client.GetStream().WriteAsync(clip.AsMemory(0, cut));
            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { });
        });
        var received = new MemoryStream();
        var collect = Task.Run(async () =>
        {
            using var client = await output.AcceptTcpClientAsync();
            var buffer = new byte[65536];
            int n;
            while ((n = await client.GetStream().ReadAsync(buffer)) > 0)
                lock (received) received.Write(buffer, 0, n);
        });

        using var key = SigningKey.Generate(1);
        var pipeline = new InjectionPipeline(
            new PipelineOptions
            {
                InputUrl = $"tcp://127.0.0.1:{((IPEndPoint)input.LocalEndpoint).Port}", InputFormat = "flv",
                OutputUrl = $"tcp://127.0.0.1:{((IPEndPoint)output.LocalEndpoint).Port}", OutputFormat = "flv",
                AnalyzeDuration = TimeSpan.FromMilliseconds(100), IoTimeout = TimeSpan.FromSeconds(60),
            },
            new CueSeiSource(new CueBook(new CueBookOptions { StreamId = "live", Heartbeat = HeartbeatPolicy.OnEveryFrame }), new MessageSigner(key)));
        var run = Task.Run(() => pipeline.Run(stop.Token));
        try
        {
            var seen = 0;
            for (var waited = 0; waited < 300 && seen < expectedVideoPackets; waited++)
            {
                Thread.Sleep(100);
                lock (received) seen = CountVideoPackets(received.ToArray());
            }
            Assert.That(seen, Is.EqualTo(expectedVideoPackets), "every complete video packet sent so far is out on the network, none held back");
            Assert.That(run.IsCompleted, Is.False, "the input is stalled, not ended");
        }
        finally
        {
            stop.Cancel();
            Assert.That(run.Wait(TimeSpan.FromSeconds(30)), Is.True);
            serve.Wait(TimeSpan.FromSeconds(5));
            collect.Wait(TimeSpan.FromSeconds(5));
        }
    }

    // FLV (spec 10.1): 9-byte header, then PreviousTagSize (4) | tag header (11: type, 24-bit size, timestamps, stream
    // id) | body. A video tag's body starts with the frame/codec byte, then AVCPacketType (1 = NAL units).
    private static IEnumerable<(int Offset, int Type, int BodySize)> Tags(ReadOnlySpan<byte> flv)
    {
        var tags = new List<(int, int, int)>();
        var at = 9 + 4;
        while (at + 11 <= flv.Length)
        {
            var type = flv[at] & 0x1F;
            var size = (flv[at + 1] << 16) | (flv[at + 2] << 8) | flv[at + 3];
            if (at + 11 + size + 4 > flv.Length) break;
            tags.Add((at, type, size));
            at += 11 + size + 4;
        }
        return tags;
    }

    private static int CountVideoPackets(ReadOnlySpan<byte> flv)
    {
        var count = 0;
        foreach (var (offset, type, size) in Tags(flv))
            if (type == 9 && size > 1 && flv[offset + 11 + 1] == 1) count++;
        return count;
    }

    // The end of the first tag (its PreviousTagSize included) at or after `position`: a cut the demuxer reads whole.
    private static int TagBoundaryNear(ReadOnlySpan<byte> flv, int position)
    {
        var end = 0;
        foreach (var (offset, _, size) in Tags(flv))
        {
            end = offset + 11 + size + 4;
            if (end >= position) break;
        }
        return end;
    }
}
