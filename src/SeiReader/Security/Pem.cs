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
    /// <exception cref="FormatException">No such block, bad base64, or a bad key id line.</exception>
    internal static (byte[] Der, string Label, ushort? KeyId) Read(string pem, params string[] labels)
    {
        if (pem is null) throw new ArgumentNullException(nameof(pem));
        foreach (var label in labels)
        {
            var begin = "-----BEGIN " + label + "-----";
            var start = pem.IndexOf(begin, StringComparison.Ordinal);
            if (start < 0) continue;
            var end = pem.IndexOf("-----END " + label + "-----", start, StringComparison.Ordinal);
            if (end < 0) throw new FormatException($"PEM block '{label}' at offset {start} has no END line");
            var body = pem.Substring(start + begin.Length, end - start - begin.Length);
            byte[] der;
            try
            {
                der = Convert.FromBase64String(RemoveWhitespace(body));
            }
            catch (FormatException e)
            {
                throw new FormatException($"PEM block '{label}' at offset {start}: {e.Message}", e);
            }
            return (der, label, ReadKeyId(pem.Substring(0, start)));
        }
        throw new FormatException($"no PEM block labelled {string.Join(" or ", labels)}");
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
                throw new FormatException($"'{line}': the key id must be an integer 0-65535");
            id = v;
        }
        return id;
    }

    private static string RemoveWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
            if (!char.IsWhiteSpace(c)) sb.Append(c);
        return sb.ToString();
    }
}
