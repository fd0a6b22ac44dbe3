using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Pipeline;

/// <summary>
/// The output's GOP cache on real demuxed packets: x264 video with a keyframe every 10 frames and AAC audio
/// interleaved, as FFmpeg's FLV demuxer reads them.
/// </summary>
public class GopCacheTests
{
    private const int KeyframeInterval = 10;

    private string _clip = "";

    [OneTimeSetUp]
    public void MakeClip() =>
        _clip = TestMedia.GetOrMake("gop10-with-audio.flv", path => FFmpegCli.Ffmpeg(
            "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
            "-c:v", "libx264", "-preset", "veryfast", "-g", $"{KeyframeInterval}", "-keyint_min", $"{KeyframeInterval}", "-sc_threshold", "0", "-bf", "2",
            "-c:a", "aac", "-b:a", "64k", "-f", "flv", path).EnsureSuccess("making the GOP-10 clip"));

    [Test]
    public void Offer_BeforeTheFirstKeyframe_HoldsNothingAndCountsTheOfferedPacketDropped()
    {
        using var clip = Clip.Read(_clip);
        using var cache = new GopCache();
        var firstKey = clip.IndexOfKeyframe(1);
        var notKey = clip.Packets.Skip(firstKey + 1).First(p => clip.IsVideo(p) && !p.IsKeyframe);
        var audio = clip.Packets.First(p => !clip.IsVideo(p));
        var size = notKey.Data.Length;

        var offers = new[] { cache.Offer(notKey, isVideo: true), cache.Offer(audio, isVideo: false) };

        Assert.Multiple(() =>
        {
            Assert.That(offers.Select(o => o.Outcome), Has.All.EqualTo(GopCacheOutcome.NoKeyframeYet));
            Assert.That(offers.Select(o => o.Dropped), Has.All.EqualTo(1));
            Assert.That(cache.IsEmpty, Is.True);
            Assert.That(notKey.Data.Length, Is.EqualTo(size), "a packet not held is left to the caller untouched");
        });
    }

    [Test]
    public void Offer_EveryKeyframeRestartsTheCache_EvictingTheGopBeforeIt_AndEveryPacketIsHeldOrDroppedOnce()
    {
        using var clip = Clip.Read(_clip);
        using var cache = new GopCache();
        var keyframes = clip.KeyframeCount;
        var lastKey = clip.IndexOfKeyframe(keyframes); // both read before the offers move the packets
        var dropped = 0;
        var restarts = new List<(int Evicted, int HeldBefore)>();
        foreach (var packet in clip.Packets)
        {
            var heldBefore = cache.Count;
            var isKeyframe = clip.IsVideo(packet) && packet.IsKeyframe; // read before the offer moves the packet
            var offer = cache.Offer(packet, clip.IsVideo(packet));
            if (isKeyframe) restarts.Add((offer.Evicted, heldBefore));
            else Assert.That(offer.Evicted, Is.Zero, "only a keyframe evicts (no bound is reached here)");
            dropped += offer.Dropped;
        }

        Assert.Multiple(() =>
        {
            Assert.That(keyframes, Is.GreaterThanOrEqualTo(4), "the clip has several GOPs");
            Assert.That(restarts.Select(r => r.Evicted), Is.EqualTo(restarts.Select(r => r.HeldBefore)), "a keyframe evicts all that was held");
            Assert.That(restarts.Skip(1).Select(r => r.Evicted), Has.All.GreaterThan(KeyframeInterval - 1), "a whole GOP (and its audio) was held");
            Assert.That(cache.Count, Is.EqualTo(clip.Packets.Count - lastKey), "what is left is the last GOP, from its keyframe to the end");
            Assert.That(dropped + cache.Count, Is.EqualTo(clip.Packets.Count), "every packet offered is held or counted dropped, once");
        });
    }

    [Test]
    public void TryTake_GivesTheSpanBackInReadOrder_KeyframeFirst_AudioIncluded_PayloadsUnchanged()
    {
        using var clip = Clip.Read(_clip);
        using var cache = new GopCache();
        var start = clip.IndexOfKeyframe(2);
        var end = clip.IndexOfKeyframe(3);
        var span = clip.Packets.Skip(start).Take(end - start).ToList();
        var expected = span.Select(p => (p.StreamIndex, p.Pts, p.Dts, Bytes: p.Data.ToArray())).ToList();
        var expectedBytes = expected.Sum(e => (long)e.Bytes.Length);

        foreach (var packet in span) Assert.That(cache.Offer(packet, clip.IsVideo(packet)).IsHeld, Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(cache.Count, Is.EqualTo(span.Count));
            Assert.That(cache.Bytes, Is.EqualTo(expectedBytes));
            Assert.That(span.Select(p => p.Data.Length), Has.All.Zero, "a held packet's reference was moved into the cache");
        });

        using var taken = new Packet();
        var got = new List<(int StreamIndex, long Pts, long Dts, byte[] Bytes)>();
        var firstIsKeyframe = false;
        while (cache.TryTake(taken))
        {
            if (got.Count == 0) firstIsKeyframe = clip.IsVideo(taken) && taken.IsKeyframe;
            got.Add((taken.StreamIndex, taken.Pts, taken.Dts, taken.Data.ToArray()));
            taken.Unref();
        }
        Assert.Multiple(() =>
        {
            Assert.That(firstIsKeyframe, Is.True, "the first packet taken is the video keyframe");
            Assert.That(got.Select(g => (g.StreamIndex, g.Pts, g.Dts)), Is.EqualTo(expected.Select(e => (e.StreamIndex, e.Pts, e.Dts))), "read order, timestamps kept");
            Assert.That(got.Select(g => g.Bytes), Is.EqualTo(expected.Select(e => e.Bytes)), "payloads unchanged");
            Assert.That(got.Count(g => g.StreamIndex != clip.VideoStream), Is.GreaterThan(0), "the audio read over the span is held too");
            Assert.That(cache.IsEmpty, Is.True);
            Assert.That(cache.Bytes, Is.Zero);
        });
    }

    [Test]
    public void Offer_PastThePacketBound_EvictsEverything_AndHoldsNothingUntilTheNextKeyframe()
    {
        using var clip = Clip.Read(_clip);
        using var cache = new GopCache(maxPackets: 5);
        var start = clip.IndexOfKeyframe(1);
        var outcomes = clip.Packets.Skip(start).Take(7).Select(p => cache.Offer(p, clip.IsVideo(p))).ToList();
        var nextKey = clip.Packets[clip.IndexOfKeyframe(2)];

        Assert.Multiple(() =>
        {
            Assert.That(outcomes.Take(5).Select(o => o.Outcome), Has.All.EqualTo(GopCacheOutcome.Held));
            Assert.That(outcomes[5], Is.EqualTo(new GopCacheOffer(GopCacheOutcome.Full, 5)), "the sixth evicts the five held");
            Assert.That(outcomes[5].Dropped, Is.EqualTo(6));
            Assert.That(outcomes[6].Outcome, Is.EqualTo(GopCacheOutcome.NoKeyframeYet), "no start without a keyframe");
            Assert.That(cache.Offer(nextKey, isVideo: true).Outcome, Is.EqualTo(GopCacheOutcome.Held), "the next keyframe starts it again");
            Assert.That(cache.Count, Is.EqualTo(1));
        });
    }

    [Test]
    public void Offer_PastTheByteBound_EvictsEverything_AKeyframeLargerThanTheBoundIsNotHeld()
    {
        using var clip = Clip.Read(_clip);
        var key = clip.Packets[clip.IndexOfKeyframe(1)];
        var next = clip.Packets[clip.IndexOfKeyframe(1) + 1];
        using (var tooSmall = new GopCache(maxBytes: key.Data.Length - 1))
        {
            Assert.That(tooSmall.Offer(key, isVideo: true), Is.EqualTo(new GopCacheOffer(GopCacheOutcome.Full, 0)));
            Assert.That(tooSmall.IsEmpty, Is.True);
        }
        using var exact = new GopCache(maxBytes: key.Data.Length);
        Assert.Multiple(() =>
        {
            Assert.That(exact.Offer(key, isVideo: true).IsHeld, Is.True, "a keyframe of exactly the bound fits");
            Assert.That(exact.Offer(next, clip.IsVideo(next)), Is.EqualTo(new GopCacheOffer(GopCacheOutcome.Full, 1)));
            Assert.That(exact.Bytes, Is.Zero);
        });
    }

    [Test]
    public void OfferAndTake_OnceWarmedUp_AllocateNothingOnTheManagedHeap()
    {
        using var clip = Clip.Read(_clip);
        using var cache = new GopCache();
        var start = clip.IndexOfKeyframe(1);
        var end = clip.IndexOfKeyframe(2);
        using var taken = new Packet();
        // Each round moves the span's references into the cache and back out into the clip's own packets.
        void Round()
        {
            for (var i = start; i < end; i++) cache.Offer(clip.Packets[i], clip.IsVideo(clip.Packets[i]));
            for (var i = start; i < end; i++)
            {
                cache.TryTake(taken);
                taken.MoveTo(clip.Packets[i]);
            }
        }
        Round();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Round();
        Round();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero, "packets are pooled and reused, no per-packet allocation");
    }

    [Test]
    public void Clear_EvictsAndCountsWhatIsHeld_AndTheCacheCanStartAgain()
    {
        using var clip = Clip.Read(_clip);
        using var cache = new GopCache();
        var start = clip.IndexOfKeyframe(1);
        for (var i = start; i < start + 4; i++) cache.Offer(clip.Packets[i], clip.IsVideo(clip.Packets[i]));
        Assert.Multiple(() =>
        {
            Assert.That(cache.Clear(), Is.EqualTo(4));
            Assert.That(cache.Clear(), Is.Zero);
            Assert.That(cache.Offer(clip.Packets[clip.IndexOfKeyframe(2)], isVideo: true).IsHeld, Is.True);
        });
    }

    /// <summary>Every packet of a clip, each in a packet of its own, in read order.</summary>
    private sealed class Clip : IDisposable
    {
        private Clip(List<Packet> packets, int videoStream)
        {
            Packets = packets;
            VideoStream = videoStream;
        }

        public List<Packet> Packets { get; }

        public int VideoStream { get; }

        public int KeyframeCount => Packets.Count(p => IsVideo(p) && p.IsKeyframe);

        public static Clip Read(string path)
        {
            using var input = MediaInput.Open(path, null, TimeSpan.FromSeconds(30));
            var video = input.Streams.Single(s => s.MediaType == MediaType.Video).Index;
            var packets = new List<Packet>();
            while (true)
            {
                var packet = new Packet();
                if (input.Read(packet) != ReadResult.Packet)
                {
                    packet.Dispose();
                    break;
                }
                packets.Add(packet);
            }
            return new Clip(packets, video);
        }

        public bool IsVideo(Packet packet) => packet.StreamIndex == VideoStream;

        // Index in Packets of the n-th video keyframe (from 1).
        public int IndexOfKeyframe(int n)
        {
            var seen = 0;
            for (var i = 0; i < Packets.Count; i++)
                if (IsVideo(Packets[i]) && Packets[i].IsKeyframe && ++seen == n) return i;
            throw new InvalidOperationException($"the clip has no keyframe {n}");
        }

        public void Dispose()
        {
            foreach (var p in Packets) p.Dispose();
        }
    }
}
