using CatEvening.SeiReader.Bitstream;

namespace CatEvening.SeiReader.Tests.Bitstream;

/// <summary>Small hand-made NAL units and framings for the unit tests (real encoder output is in the media tests).</summary>
internal static class Nals
{
    public static readonly byte[] Uuid = [0xCA, 0x7E, 0x0E, 0x11, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x02, 0xAB, 0xCD, 0xEF, 0x42];

    // H.264: AUD (09 F0), SPS (67 ...), PPS (68 ...), SEI (06 ...), IDR slice (65 88 ...), non-IDR slice (41 9A ...).
    public static byte[] H264Aud => [0x09, 0xF0];
    public static byte[] H264Sps => [0x67, 0x64, 0x00, 0x1F, 0xAC, 0xD9, 0x40, 0x50, 0x05, 0xBB, 0x01, 0x10];
    public static byte[] H264Pps => [0x68, 0xEB, 0xE3, 0xCB, 0x22, 0xC0];
    public static byte[] H264Idr => [0x65, 0x88, 0x84, 0x00, 0x33, 0xFF, 0xFE, 0xF6, 0xF0, 0xFE, 0x05, 0x36];
    public static byte[] H264Slice => [0x41, 0x9A, 0x21, 0x6C, 0x41, 0x0F];
    public static byte[] H264SecondSlice => [0x41, 0x1A, 0x21, 0x6C];

    // H.265: AUD (46 01 50), VPS (40 01), SPS (42 01), PPS (44 01), IDR_W_RADL (26 01 AF), TRAIL_R tid 2 (02 03 ...).
    public static byte[] H265Aud => [0x46, 0x01, 0x50];
    public static byte[] H265Vps => [0x40, 0x01, 0x0C, 0x01, 0xFF, 0xFF];
    public static byte[] H265Sps => [0x42, 0x01, 0x01, 0x01, 0x60, 0x00];
    public static byte[] H265Pps => [0x44, 0x01, 0xC1, 0x72, 0xB4];
    public static byte[] H265Idr => [0x26, 0x01, 0xAF, 0x06, 0xB8, 0x63];
    public static byte[] H265TrailTid2 => [0x02, 0x03, 0xD0, 0x11, 0x22];

    public static byte[] AnnexB(params byte[][] nals) => [.. nals.SelectMany(n => (byte[])[0, 0, 0, 1, .. n])];

    public static byte[] AnnexB3(params byte[][] nals) => [.. nals.SelectMany(n => (byte[])[0, 0, 1, .. n])];

    public static byte[] Framed(NalFraming framing, params byte[][] nals)
    {
        var buffer = new byte[nals.Sum(n => framing.PrefixSize + n.Length)];
        int pos = 0;
        foreach (var n in nals) pos += NalFramingConverter.WriteFramed(n, framing, buffer.AsSpan(pos));
        return buffer;
    }

    public static List<NalUnit> ReadAll(byte[] data, VideoCodec codec, NalFraming framing)
    {
        var list = new List<NalUnit>();
        var reader = new NalUnitReader(data, codec, framing);
        ReadStatus status;
        while ((status = reader.Read(out var nal)) == ReadStatus.Success) list.Add(nal);
        if (status != ReadStatus.EndOfData) throw new InvalidOperationException(reader.DescribeError());
        return list;
    }

    public static byte[] SeiNal(VideoCodec codec, NalFraming framing, params byte[][] userData)
    {
        var measure = SeiNalWriter.CreateMeasuring(codec, framing);
        foreach (var d in userData) measure.WriteUserDataUnregistered(Uuid, d);
        var buffer = new byte[measure.Complete()];
        var writer = new SeiNalWriter(buffer, codec, framing);
        foreach (var d in userData) writer.WriteUserDataUnregistered(Uuid, d);
        writer.Complete();
        return buffer;
    }

    /// <summary>An Annex B SEI NAL unit holding one user_data_unregistered message whose payload (UUID first) is <paramref name="payload"/>.</summary>
    public static byte[] SeiNalWithPayload(VideoCodec codec, byte[] payload)
    {
        var measure = SeiNalWriter.CreateMeasuring(codec, NalFraming.AnnexB);
        measure.WriteMessage(5, payload);
        var buffer = new byte[measure.Complete()];
        var writer = new SeiNalWriter(buffer, codec, NalFraming.AnnexB);
        writer.WriteMessage(5, payload);
        writer.Complete();
        return buffer;
    }

    public static NalFraming[] AllFramings => [NalFraming.AnnexB, NalFraming.LengthPrefixed(1), NalFraming.LengthPrefixed(2), NalFraming.LengthPrefixed(4)];

    /// <summary>Bytes full of 00 00 0x runs, the worst case for emulation prevention.</summary>
    public static byte[] Hostile(Random random, int length)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
            data[i] = random.Next(4) switch { 0 or 1 => 0, 2 => (byte)random.Next(4), _ => (byte)random.Next(256) };
        return data;
    }
}
