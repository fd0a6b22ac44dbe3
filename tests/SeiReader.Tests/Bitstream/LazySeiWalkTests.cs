using CatEvening.SeiReader.Bitstream;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Bitstream;

/// <summary>
/// <see cref="UserDataUnregisteredReader"/> reads an SEI NAL unit in place, message by message, searching for its end
/// (Annex B) and removing emulation prevention bytes only as far as the payloads it returns need (issue 10, H10). These
/// tests hold it to the whole-unit reading it replaced (<see cref="NalUnitReader"/>, <see cref="Rbsp.TryUnescape"/>,
/// <see cref="SeiMessageReader"/>): the same payloads, errors and error offsets, on random and mutated access units.
/// </summary>
public class LazySeiWalkTests
{
    private const int Cases = 40_000;

    [TestCase(VideoCodec.H264, 0)]
    [TestCase(VideoCodec.H264, 4)]
    [TestCase(VideoCodec.H264, 2)]
    [TestCase(VideoCodec.H265, 0)]
    [TestCase(VideoCodec.H265, 4)]
    public void Walk_RandomAndMutatedAccessUnits_SameResultsAsReadingWholeNalUnits(VideoCodec codec, int lengthSize)
    {
        var framing = lengthSize == 0 ? NalFraming.AnnexB : NalFraming.LengthPrefixed(lengthSize);
        var random = new Random(1000 + (int)codec * 10 + lengthSize);
        var differences = new List<string>();
        long payloads = 0, errors = 0;
        for (var i = 0; i < Cases && differences.Count < 5; i++)
        {
            var au = RandomAccessUnit(random, codec, framing);
            var expected = WholeUnitWalk(au, codec, framing);
            var actual = LazyWalk(au, codec, framing);
            payloads += expected.Count(e => e.StartsWith("data", StringComparison.Ordinal));
            errors += expected.Count(e => !e.StartsWith("data", StringComparison.Ordinal));
            if (!expected.SequenceEqual(actual))
                differences.Add($"case {i} {Convert.ToHexString(au)}\n  whole: {string.Join(" | ", expected)}\n  lazy:  {string.Join(" | ", actual)}");
        }
        Assert.That(differences, Is.Empty, string.Join("\n", differences));
        Assert.Multiple(() =>
        {
            Assert.That(payloads, Is.GreaterThan(Cases / 2), "the cases hold payloads");
            Assert.That(errors, Is.GreaterThan(Cases / 10), "and broken SEI");
        });
    }

    [Test]
    public void Walk_StopAfterTheFirstPayload_DoesNotReadTheRestOfAHugeSeiNalUnit()
    {
        // The first payload, then a megabyte of messages, then a unit whose size runs past its end: a walk stopped after
        // the first payload never meets the broken unit, and the first payload is a slice of the access unit.
        var first = Nals.Uuid.Concat(Enumerable.Repeat((byte)0x11, 100)).ToArray();
        var filler = Enumerable.Range(0, 6000).Select(_ => Nals.Uuid.Concat(Enumerable.Repeat((byte)0x22, 150)).ToArray()).ToArray();
        var big = UserDataUnregisteredReaderTests.Strip(Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [first[16..], .. filler.Select(f => f[16..])]));
        var au = Nals.AnnexB(Nals.H264Aud, big, [0x06, 0x05, 0xff, 0xff, 0x10, 0x41, 0x42, 0x80], Nals.H264Idr);
        Assert.That(au, Has.Length.GreaterThan(1_000_000));
        var reader = new UserDataUnregisteredReader(au, VideoCodec.H264, NalFraming.AnnexB, new byte[au.Length]);
        Assert.That(reader.Read(out var m), Is.EqualTo(ReadStatus.Success));
        Assert.That(m.Payload.SequenceEqual(first), Is.True);
        var whole = LazyWalk(au, VideoCodec.H264, NalFraming.AnnexB);
        Assert.That(whole, Has.Count.EqualTo(6002), "read to the end, every payload and then the broken unit");
        Assert.That(whole[^1], Is.EqualTo($"SeiPayloadPastEnd@{6 + 4 + big.Length + 4 + 1}"));
    }

    private static List<string> LazyWalk(byte[] au, VideoCodec codec, NalFraming framing)
    {
        var result = new List<string>();
        var reader = new UserDataUnregisteredReader(au, codec, framing, new byte[au.Length]);
        while (true)
        {
            var status = reader.Read(out var m);
            if (status == ReadStatus.EndOfData) break;
            if (status == ReadStatus.Success)
            {
                result.Add($"data {m.NalOffset} {Convert.ToHexString(m.Payload)}");
                continue;
            }
            if (!reader.CanContinue)
            {
                result.Add($"framing {reader.Error}@{reader.ErrorOffset}");
                Assert.That(reader.Read(out _), Is.EqualTo(ReadStatus.Malformed), "broken framing stays broken");
                break;
            }
            result.Add($"{reader.Error}@{reader.ErrorOffset}");
        }
        return result;
    }

    // The walk as it was before issue 10: find the whole unit, unescape it whole, read its messages.
    private static List<string> WholeUnitWalk(byte[] au, VideoCodec codec, NalFraming framing)
    {
        var result = new List<string>();
        var scratch = new byte[au.Length];
        var nals = new NalUnitReader(au, codec, framing);
        while (true)
        {
            var status = nals.Read(out var nal);
            if (status == ReadStatus.EndOfData) break;
            if (status != ReadStatus.Success)
            {
                result.Add($"framing {nals.Error}@{nals.ErrorOffset}");
                break;
            }
            if (nal.HeaderError != BitstreamError.None)
            {
                // A unit the framing delimits but whose header is unreadable: reported, and the walk goes on.
                result.Add($"{nal.HeaderError}@{nal.Offset}");
                continue;
            }
            if (!nal.Header.IsSei) continue;
            var ebspOffset = nal.Offset + nal.Header.Length;
            var ebsp = au.AsSpan(ebspOffset, nal.Length - nal.Header.Length);
            Rbsp.TryUnescape(ebsp, scratch.AsSpan(ebspOffset, ebsp.Length), out var rbsp);
            var messages = new SeiMessageReader(rbsp);
            while (true)
            {
                var ms = messages.Read(out var sei);
                if (ms == ReadStatus.EndOfData) break;
                if (ms != ReadStatus.Success)
                {
                    result.Add($"{messages.Error}@{ebspOffset + Rbsp.ToEscapedOffset(ebsp, messages.ErrorOffset)}");
                    break;
                }
                if (sei.PayloadType != SeiPayloadType.UserDataUnregistered) continue;
                if (sei.Payload.Length < UserDataUnregistered.UuidLength)
                {
                    result.Add($"UserDataTooShort@{ebspOffset + Rbsp.ToEscapedOffset(ebsp, sei.Offset)}");
                    continue;
                }
                result.Add($"data {nal.Offset} {Convert.ToHexString(sei.Payload)}");
            }
        }
        return result;
    }

    private static readonly byte[] Tricky = [0, 0, 0, 0, 1, 2, 3, 3, 0x80, 0xFF, 0xFE];

    private static byte RandomByte(Random random) => random.Next(3) == 0 ? (byte)random.Next(256) : Tricky[random.Next(Tricky.Length)];

    private static byte[] RandomAccessUnit(Random random, VideoCodec codec, NalFraming framing)
    {
        var nals = new List<byte[]>();
        var count = random.Next(1, 5);
        for (var n = 0; n < count; n++)
        {
            if (random.Next(3) == 0)
            {
                var slice = new byte[random.Next(1, 40)];
                random.NextBytes(slice);
                for (var i = 0; i < slice.Length; i++) if (random.Next(4) == 0) slice[i] = RandomByte(random);
                byte[] header = codec == VideoCodec.H264 ? [0x65] : [0x26, 0x01];
                nals.Add([.. header, .. Escape(slice)]);
                continue;
            }
            var rbsp = new List<byte>();
            var messages = random.Next(0, 4);
            for (var m = 0; m < messages; m++)
            {
                var type = random.Next(5) switch { 0 => random.Next(0, 7), 1 => 300, _ => 5 };
                var payload = new byte[random.Next(4) == 0 ? random.Next(0, 20) : random.Next(16, 300)];
                for (var i = 0; i < payload.Length; i++) payload[i] = RandomByte(random);
                var size = payload.Length + (random.Next(12) == 0 ? random.Next(-3, 4) : 0);
                var coded = new byte[8];
                rbsp.AddRange(coded[..SeiPrimitives.WriteCodedValue(type, coded)]);
                rbsp.AddRange(coded[..SeiPrimitives.WriteCodedValue(Math.Max(0, size), coded)]);
                rbsp.AddRange(payload);
            }
            if (random.Next(6) != 0) rbsp.Add(0x80);
            for (var z = random.Next(4) == 0 ? random.Next(1, 4) : 0; z > 0; z--) rbsp.Add(0);
            byte[] seiHeader = codec == VideoCodec.H264 ? [0x06] : [random.Next(2) == 0 ? (byte)0x4E : (byte)0x50, 0x01];
            nals.Add([.. seiHeader, .. Escape(rbsp.ToArray())]);
        }
        var au = new List<byte>();
        foreach (var nal in nals)
        {
            if (framing.IsAnnexB)
            {
                au.AddRange(random.Next(2) == 0 ? [0, 0, 0, 1] : [0, 0, 1]);
                au.AddRange(nal);
                for (var z = random.Next(5) == 0 ? random.Next(1, 3) : 0; z > 0; z--) au.Add(0);
            }
            else
            {
                var length = framing.LengthSize == 2 ? Math.Min(nal.Length, 0xFFFF) : nal.Length;
                for (var b = framing.LengthSize - 1; b >= 0; b--) au.Add((byte)(length >> (8 * b)));
                au.AddRange(nal.Take(length));
            }
        }
        var bytes = au.ToArray();
        var mutations = random.Next(4);
        for (var k = 0; k < mutations && bytes.Length > 0; k++)
        {
            var at = random.Next(bytes.Length);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] = RandomByte(random);
                    break;
                case 1:
                    bytes = [.. bytes[..at], .. (byte[])[0, 0, (byte)random.Next(4)], .. bytes[at..]];
                    break;
                case 2:
                    bytes = bytes[..at];
                    break;
                default:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
            }
        }
        return bytes;
    }

    private static byte[] Escape(byte[] rbsp)
    {
        var escaped = new byte[Rbsp.GetEscapedLength(rbsp)];
        Rbsp.Escape(rbsp, escaped);
        return escaped;
    }
}
