using System;
using System.Globalization;
using System.Text;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// RFC 7468 PEM reading and writing, by hand so that it is the same on netstandard2.1 (which lacks
/// <c>ImportFromPem</c>) and net10.0. CatEvening writes the key id as one line of explanatory text before the
/// encapsulation boundary (<c>CatEvening-Key-Id: 7</c>), which RFC 7468 section 5.2 lets parsers ignore.
/// </summary>
internal static class Pem
{
    internal const string KeyIdPrefix = "CatEvening-Key-Id:";

    internal static string Write(string label, ReadOnlySpan<byte> der, ushort? keyId)
    {
        var sb = new StringBuilder();
        if (keyId is { } id) sb.Append(KeyIdPrefix).Append(' ').Append(id.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("-----BEGIN ").Append(label).Append("-----\n");
        var b64 = Convert.ToBase64String(der.ToArray());
        for (var i = 0; i < b64.Length; i += 64) sb.Append(b64, i, Math.Min(64, b64.Length - i)).Append('\n');
        sb.Append("-----END ").Append(label).Append("-----\n");
        return sb.ToString();
    }

    /// <summary>Finds the first block with one of <paramref name="labels"/>; returns its DER, its label and the key id
    /// written before it (null when absent).</summary>
    /// <exception cref="KeyFormatException">No such block (<see cref="KeyFormatError.NoPemBlock"/>), no END line, bad
    /// base64, a bad key id line or a second key block (<see cref="KeyFormatError.MalformedPem"/>).</exception>
    internal static (byte[] Der, string Label, ushort? KeyId) Read(string pem, params string[] labels)
    {
        if (pem is null) throw new ArgumentNullException(nameof(pem));
        foreach (var label in labels)
        {
            var begin = "-----BEGIN " + label + "-----";
            var start = pem.IndexOf(begin, StringComparison.Ordinal);
            if (start < 0) continue;
            var end = pem.IndexOf("-----END " + label + "-----", start, StringComparison.Ordinal);
            if (end < 0) throw new KeyFormatException(KeyFormatError.MalformedPem, start, $"PEM block '{label}' at offset {start} has no END line");
            var body = pem.Substring(start + begin.Length, end - start - begin.Length);
            byte[] der;
            try
            {
                der = Convert.FromBase64String(RemoveWhitespace(body));
            }
            catch (FormatException e)
            {
                throw new KeyFormatException(KeyFormatError.MalformedPem, start, $"PEM block '{label}' at offset {start}: {e.Message}", e);
            }
            if (der.Length == 0) throw new KeyFormatException(KeyFormatError.MalformedPem, start, $"PEM block '{label}' at offset {start} is empty");
            // A second key in the file would be ignored without a word (the first was used): refused. Other blocks (the
            // EC PARAMETERS block `openssl ecparam -genkey` writes before the key) are not keys and stay allowed.
            foreach (var another in labels)
            {
                var marker = "-----BEGIN " + another + "-----";
                for (var at = pem.IndexOf(marker, StringComparison.Ordinal); at >= 0; at = pem.IndexOf(marker, at + 1, StringComparison.Ordinal))
                {
                    if (at != start)
                        throw new KeyFormatException(KeyFormatError.MalformedPem, at,
                            $"two keys in one file (PEM blocks at offsets {Math.Min(at, start)} and {Math.Max(at, start)}): one key per file, or only one would be used");
                }
            }
            return (der, label, ReadKeyId(pem.Substring(0, start)));
        }
        var other = pem.IndexOf("-----BEGIN ", StringComparison.Ordinal);
        var found = other < 0 ? "no PEM block at all" : "found " + FirstLine(pem.Substring(other));
        throw new KeyFormatException(KeyFormatError.NoPemBlock, other, $"no PEM block labelled {string.Join(" or ", labels)} ({found})");
    }

    private static ushort? ReadKeyId(string preamble)
    {
        ushort? id = null;
        foreach (var raw in preamble.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith(KeyIdPrefix, StringComparison.Ordinal)) continue;
            var text = line.Substring(KeyIdPrefix.Length).Trim();
            if (!ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                throw new KeyFormatException(KeyFormatError.MalformedPem, -1, $"'{line}': the key id must be an integer 0-65535");
            id = v;
        }
        return id;
    }

    private static string FirstLine(string s)
    {
        var end = s.IndexOfAny(new[] { '\r', '\n' });
        var line = end < 0 ? s : s.Substring(0, end);
        return line.Length > 80 ? line.Substring(0, 80) : line;
    }

    /// <summary>The key id to use: the caller's, else the PEM's.</summary>
    /// <exception cref="KeyFormatException">Neither gives one (<see cref="KeyFormatError.MissingKeyId"/>).</exception>
    internal static ushort RequireKeyId(ushort? fromCaller, ushort? fromPem) =>
        fromCaller ?? fromPem ?? throw new KeyFormatException(KeyFormatError.MissingKeyId, -1,
            $"the PEM has no '{KeyIdPrefix} N' line above its BEGIN line: sei-inject keygen writes that line; " +
            $"to a key made elsewhere (openssl) add one, e.g. '{KeyIdPrefix} 1', with the id its readers' key ring gives it");

    private static string RemoveWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
            if (!char.IsWhiteSpace(c)) sb.Append(c);
        return sb.ToString();
    }
}
