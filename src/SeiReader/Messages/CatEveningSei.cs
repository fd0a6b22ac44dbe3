using System;

namespace CatEvening.SeiReader.Messages;

/// <summary>
/// Constants of the CatEvening user_data_unregistered payload (H.264 D.1.7 / H.265 D.2.7, payloadType 5):
/// <code>
/// offset  size  field
///      0    16  uuid_iso_iec_11578 = 7f4dd11c-dfb8-4e31-82fd-6068876d036e (<see cref="Uuid"/>)
///     16     1  format_version = 1 (one message) or 2 (everything due on one frame: a <see cref="MessageBundle"/>)
///     17     2  key_id, unsigned big-endian
///     19     N  body: one MessagePack array (docs/sei-format.md), N = payloadSize - 83
///   19+N    64  signature: ECDSA P-256 / SHA-256, IEEE P1363 (r || s), over bytes [0, 19+N)
/// </code>
/// </summary>
public static class CatEveningSei
{
    /// <summary>The CatEvening UUID as a string: <c>7f4dd11c-dfb8-4e31-82fd-6068876d036e</c>.</summary>
    public const string UuidString = "7f4dd11c-dfb8-4e31-82fd-6068876d036e";

    /// <summary>Envelope format version 1: one message per payload (<see cref="CatEveningMessage"/>), several payloads
    /// per frame when several messages are due. Still read; written only on request.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Envelope format version 2: one payload per frame holding everything due on it, under one transmission
    /// sequence number (<see cref="MessageBundle"/>). What the injector writes by default.</summary>
    public const byte FormatVersion2 = 2;

    /// <summary>The largest version-2 payload a reader accepts: 65,536 bytes (the body at most 65,453).</summary>
    public const int MaxBundlePayloadLength = 65_536;

    /// <summary>The largest version-2 body: <see cref="MaxBundlePayloadLength"/> − 83 = 65,453 bytes.</summary>
    public const int MaxBundleBodyLength = MaxBundlePayloadLength - Overhead;

    /// <summary>The most entries one version-2 payload holds: 256.</summary>
    public const int MaxBundleEntries = 256;

    /// <summary>The most CatEvening payloads of one access unit a reader looks at by default: 16 (docs/sei-format.md,
    /// "Bounded reader work"). A version-1 writer puts one payload per message, so it puts at most this many on a frame.</summary>
    public const int DefaultMaxPayloadsPerAccessUnit = 16;

    /// <summary>Bound of every version-2 integer: |value| ≤ 2^53 − 1 (9,007,199,254,740,991), so that a JavaScript
    /// reader holds each one exactly in a Number.</summary>
    public const long MaxSafeInteger = (1L << 53) - 1;

    /// <summary>Length of the uuid_iso_iec_11578 field: 16 bytes.</summary>
    public const int UuidLength = 16;

    /// <summary>Offset of the format version byte.</summary>
    public const int VersionOffset = 16;

    /// <summary>Offset of the 2-byte big-endian key id.</summary>
    public const int KeyIdOffset = 17;

    /// <summary>Offset of the MessagePack body.</summary>
    public const int BodyOffset = 19;

    /// <summary>Length of the IEEE P1363 P-256 signature (r and s, 32 bytes each).</summary>
    public const int SignatureLength = 64;

    /// <summary>Bytes of a payload that are not body: UUID, version, key id and signature (83).</summary>
    public const int Overhead = BodyOffset + SignatureLength;

    /// <summary>The largest version-1 body a reader accepts: 1536 bytes (1 KiB of app data plus every other field).</summary>
    public const int MaxBodyLength = 1536;

    /// <summary>The shortest payload that can be a CatEvening message: a one-byte body (84 bytes).</summary>
    public const int MinPayloadLength = Overhead + 1;

    /// <summary>The longest version-1 payload a reader accepts (1619 bytes).</summary>
    public const int MaxPayloadLength = Overhead + MaxBodyLength;

    /// <summary>Longest app data of a cue: 1024 bytes.</summary>
    public const int MaxAppDataLength = 1024;

    /// <summary>Longest stream id and cue id, in UTF-8 bytes: 64.</summary>
    public const int MaxIdLength = 64;

    /// <summary>Longest time-server address of a heartbeat, in UTF-8 bytes: 255.</summary>
    public const int MaxTimeServerLength = 255;

    private static readonly byte[] UuidBytes =
    {
        0x7f, 0x4d, 0xd1, 0x1c, 0xdf, 0xb8, 0x4e, 0x31, 0x82, 0xfd, 0x60, 0x68, 0x87, 0x6d, 0x03, 0x6e,
    };

    /// <summary>The 16 UUID bytes in network order, as they appear at the start of the payload.</summary>
    public static ReadOnlySpan<byte> Uuid => UuidBytes;

    /// <summary>True when <paramref name="userDataUnregisteredPayload"/> starts with the CatEvening UUID
    /// (the payload may still be malformed: that is for the verifier to say).</summary>
    public static bool HasCatEveningUuid(ReadOnlySpan<byte> userDataUnregisteredPayload) =>
        userDataUnregisteredPayload.Length >= UuidLength && userDataUnregisteredPayload.Slice(0, UuidLength).SequenceEqual(Uuid);
}
