namespace CatEvening.LatencyProbe.Timecode;

/// <summary>Draws digits, colons and dots as seven-segment glyphs into a grey image; no font needed.</summary>
internal static class SevenSegment
{
    // Segments a-g as bits 0-6: a top, b upper right, c lower right, d bottom, e lower left, f upper left, g middle.
    private static readonly byte[] DigitSegments = [0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F];

    /// <summary>Draws <paramref name="text"/> (digits, ':' and '.') evenly across the box, lit on the existing background.</summary>
    public static void Draw(Span<byte> image, int stride, int left, int top, int boxWidth, int boxHeight, string text)
    {
        var charWidth = boxWidth / text.Length;
        var glyphWidth = charWidth * 3 / 4;
        var thickness = Math.Max(2, glyphWidth / 5);
        for (var i = 0; i < text.Length; i++)
        {
            var x = left + (i * charWidth) + ((charWidth - glyphWidth) / 2);
            var c = text[i];
            if (c is >= '0' and <= '9')
            {
                DrawDigit(image, stride, x, top, glyphWidth, boxHeight, thickness, DigitSegments[c - '0']);
            }
            else if (c == ':')
            {
                var cx = x + ((glyphWidth - thickness) / 2);
                Fill(image, stride, cx, top + (boxHeight / 3) - (thickness / 2), thickness, thickness);
                Fill(image, stride, cx, top + (2 * boxHeight / 3) - (thickness / 2), thickness, thickness);
            }
            else if (c == '.')
            {
                Fill(image, stride, x + ((glyphWidth - thickness) / 2), top + boxHeight - thickness, thickness, thickness);
            }
        }
    }

    private static void DrawDigit(Span<byte> image, int stride, int x, int y, int w, int h, int t, byte segments)
    {
        var half = h / 2;
        if ((segments & 0x01) != 0) Fill(image, stride, x, y, w, t);
        if ((segments & 0x02) != 0) Fill(image, stride, x + w - t, y, t, half);
        if ((segments & 0x04) != 0) Fill(image, stride, x + w - t, y + half, t, h - half);
        if ((segments & 0x08) != 0) Fill(image, stride, x, y + h - t, w, t);
        if ((segments & 0x10) != 0) Fill(image, stride, x, y + half, t, h - half);
        if ((segments & 0x20) != 0) Fill(image, stride, x, y, t, half);
        if ((segments & 0x40) != 0) Fill(image, stride, x, y + half - (t / 2), w, t);
    }

    private static void Fill(Span<byte> image, int stride, int x, int y, int w, int h)
    {
        for (var row = y; row < y + h; row++) image.Slice((row * stride) + x, w).Fill(255);
    }
}
