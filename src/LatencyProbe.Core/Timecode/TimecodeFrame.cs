using System.Buffers.Binary;
using System.Globalization;

namespace CatEvening.LatencyProbe.Timecode;

/// <summary>Why a frame's code could not be read.</summary>
public enum TimecodeReadFailure
{
    /// <summary>The code was read.</summary>
    None,

    /// <summary>A cell pair was too close in brightness to tell which is lit (blend of two frames, heavy blur, no code).</summary>
    LowContrast,

    /// <summary>Every pair was clear but the checksum did not match.</summary>
    ChecksumMismatch,
}

/// <summary>
/// The visual timecode: draws a frame's creation time as big blocks and as digits into an 8-bit grey image, and
/// reads it back from a decoded image of any size.
/// </summary>
/// <remarks>
/// Code: 64 bits = the creation time in milliseconds since the Unix epoch (48 bits, big-endian) followed by
/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of those 6 bytes. Each bit takes two horizontally adjacent
/// cells, lit-dark for 1 and dark-lit for 0, so the reader needs no threshold: it only compares the two halves,
/// which survives gamma, range conversion and the smearing of a 500 kb/s encode. The 128 cells form a 16 x 8 grid
/// covering x 4-96 %, y 5-60 % of the picture; every position is relative, so any scaling keeps the code readable
/// (a 640x360 picture has 37 x 25 pixel cells). The lower part shows the same time as <c>HH:MM:SS.mmm</c> (UTC) in
/// seven-segment digits for people and cameras.
/// </remarks>
public static class TimecodeFrame
{
    /// <summary>Columns of the cell grid.</summary>
    public const int Columns = 16;

    /// <summary>Rows of the cell grid.</summary>
    public const int Rows = 8;

    /// <summary>Smallest brightness difference (0-255) between the two cells of a bit for it to count as read.</summary>
    public const int MinimumContrast = 40;

    private const double GridLeft = 0.04, GridRight = 0.96, GridTop = 0.05, GridBottom = 0.60;
    private const double DigitsTop = 0.66, DigitsBottom = 0.94;
    private const byte Lit = 255, Dark = 0;

    /// <summary>Largest time the code holds: 2^48 - 1 milliseconds (year 10889).</summary>
    public const long MaxMilliseconds = (1L << 48) - 1;

    /// <summary>The 64-bit code of a time: 48-bit milliseconds then the CRC-16 of their 6 bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The time is negative or above <see cref="MaxMilliseconds"/>.</exception>
    public static ulong Encode(long unixMilliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(unixMilliseconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(unixMilliseconds, MaxMilliseconds);
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, (ulong)unixMilliseconds << 16);
        return ((ulong)unixMilliseconds << 16) | Crc16(bytes[..6]);
    }

    /// <summary>The time in a 64-bit code, when its checksum matches.</summary>
    public static bool TryDecode(ulong code, out long unixMilliseconds)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, code);
        unixMilliseconds = (long)(code >> 16);
        return Crc16(bytes[..6]) == (ushort)code;
    }

    /// <summary>Draws the frame of <paramref name="unixMilliseconds"/> into a <paramref name="width"/> x <paramref name="height"/> grey image.</summary>
    /// <exception cref="ArgumentException">The image is smaller than 160x90 or the span is not width × height bytes.</exception>
    public static void Draw(Span<byte> image, int width, int height, long unixMilliseconds)
    {
        CheckSize(image.Length, width, height);
        image.Clear();
        var code = Encode(unixMilliseconds);
        for (var bit = 0; bit < 64; bit++)
        {
            var one = ((code >> (63 - bit)) & 1) != 0;
            var cell = bit * 2;
            FillCell(image, width, height, cell, one ? Lit : Dark);
            FillCell(image, width, height, cell + 1, one ? Dark : Lit);
        }
        var time = DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds).UtcDateTime
            .ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
        SevenSegment.Draw(image, width, (int)(GridLeft * width), (int)(DigitsTop * height),
            (int)((GridRight - GridLeft) * width), (int)((DigitsBottom - DigitsTop) * height), time);
    }

    /// <summary>Reads the code of a decoded grey image of any size (the whole picture, scaled but not cropped).</summary>
    /// <exception cref="ArgumentException">The image is smaller than 160x90 or the span is not width × height bytes.</exception>
    public static TimecodeReadFailure TryRead(ReadOnlySpan<byte> image, int width, int height, out long unixMilliseconds)
    {
        CheckSize(image.Length, width, height);
        unixMilliseconds = 0;
        ulong code = 0;
        for (var bit = 0; bit < 64; bit++)
        {
            var first = CellMean(image, width, height, bit * 2);
            var second = CellMean(image, width, height, (bit * 2) + 1);
            if (Math.Abs(first - second) < MinimumContrast) return TimecodeReadFailure.LowContrast;
            code = (code << 1) | (first > second ? 1UL : 0UL);
        }
        return TryDecode(code, out unixMilliseconds) ? TimecodeReadFailure.None : TimecodeReadFailure.ChecksumMismatch;
    }

    private static void CheckSize(int length, int width, int height)
    {
        if (width < 160 || height < 90) throw new ArgumentException($"image {width}x{height} is smaller than 160x90");
        if (length != width * height) throw new ArgumentException($"image holds {length} bytes, {width}x{height} needs {width * height}");
    }

    private static (int X0, int Y0, int X1, int Y1) CellBounds(int width, int height, int cell)
    {
        var column = cell % Columns;
        var row = cell / Columns;
        var cw = (GridRight - GridLeft) * width / Columns;
        var ch = (GridBottom - GridTop) * height / Rows;
        return ((int)Math.Round((GridLeft * width) + (column * cw)), (int)Math.Round((GridTop * height) + (row * ch)),
                (int)Math.Round((GridLeft * width) + ((column + 1) * cw)), (int)Math.Round((GridTop * height) + ((row + 1) * ch)));
    }

    private static void FillCell(Span<byte> image, int width, int height, int cell, byte value)
    {
        var (x0, y0, x1, y1) = CellBounds(width, height, cell);
        for (var y = y0; y < y1; y++) image.Slice((y * width) + x0, x1 - x0).Fill(value);
    }

    /// <summary>Mean brightness of the middle half of a cell: its edges blur into the neighbours after scaling.</summary>
    private static int CellMean(ReadOnlySpan<byte> image, int width, int height, int cell)
    {
        var (x0, y0, x1, y1) = CellBounds(width, height, cell);
        var mx = (x1 - x0) / 4;
        var my = (y1 - y0) / 4;
        long sum = 0;
        var count = 0;
        for (var y = y0 + my; y < y1 - my; y++)
        {
            foreach (var b in image.Slice((y * width) + x0 + mx, x1 - x0 - (2 * mx)))
                sum += b;
            count += x1 - x0 - (2 * mx);
        }
        return count == 0 ? 0 : (int)(sum / count);
    }

    private static ushort Crc16(ReadOnlySpan<byte> data)
    {
        ushort crc = 0xFFFF;
        foreach (var b in data)
        {
            crc ^= (ushort)(b << 8);
            for (var i = 0; i < 8; i++)
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
        }
        return crc;
    }
}
