using System;

namespace CatEvening.SeiReader.Security;

/// <summary>What is wrong with a key file or key bytes; carried by <see cref="KeyFormatException"/>.</summary>
public enum KeyFormatError
{
    /// <summary>No PEM block with a label this call accepts (empty text, garbage, a certificate, an RSA or encrypted key block).</summary>
    NoPemBlock = 1,

    /// <summary>A PEM block without its END line, with bad base64, or a bad <c>CatEvening-Key-Id</c> line.</summary>
    MalformedPem = 2,

    /// <summary>Neither the PEM nor the caller gives a key id.</summary>
    MissingKeyId = 3,

    /// <summary>The DER structure is broken: truncated, a wrong tag, a length past the end, bytes after the key.</summary>
    MalformedDer = 4,

    /// <summary>The key is not an EC key (<c>id-ecPublicKey</c>, 1.2.840.10045.2.1): RSA, Ed25519, DSA…</summary>
    UnsupportedAlgorithm = 5,

    /// <summary>An EC key on a curve other than P-256 (named curve 1.2.840.10045.3.1.7), or with explicit curve parameters.</summary>
    UnsupportedCurve = 6,

    /// <summary>The public point is not an uncompressed P-256 point (<c>04 ‖ X ‖ Y</c>) on the curve.</summary>
    InvalidPublicKey = 7,

    /// <summary>The private scalar is not in [1, n − 1], the structure's version is wrong, or the public key written
    /// beside it does not belong to it.</summary>
    InvalidPrivateKey = 8,
}

/// <summary>
/// A key (PEM text or DER bytes) is malformed or not a CatEvening key (ECDSA P-256). The one exception every key
/// loader of this library throws for bad key content; <see cref="Error"/> says what is wrong, <see cref="Offset"/>
/// where (in the DER bytes, or in the PEM text for <see cref="KeyFormatError.NoPemBlock"/> and
/// <see cref="KeyFormatError.MalformedPem"/>; -1 when there is no single place). Derives from
/// <see cref="FormatException"/>, so callers that caught that still do.
/// </summary>
public sealed class KeyFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public KeyFormatException(KeyFormatError error, int offset, string message, Exception? inner = null)
        : base(message, inner)
    {
        Error = error;
        Offset = offset;
    }

    /// <summary>What is wrong.</summary>
    public KeyFormatError Error { get; }

    /// <summary>Offset of the fault in the DER (or PEM text), or -1.</summary>
    public int Offset { get; }
}
