using System;
using System.Buffers;
using System.Buffers.Binary;
using CatEvening.SeiReader.Messages;

#if NET
namespace CatEvening.SeiReader.Security;

/// <summary>
/// Signs CatEvening messages into complete user_data_unregistered payloads (UUID, version, key id, body,
/// signature: see <see cref="CatEveningSei"/>), ready for an SEI writer. Thread-safe. In the net10.0 build only,
/// as <see cref="SigningKey"/>.
/// </summary>
public sealed class MessageSigner
{
    private readonly SigningKey _key;

    /// <summary>Creates a signer that signs with <paramref name="key"/> (the signer does not own it).</summary>
    public MessageSigner(SigningKey key) => _key = key ?? throw new ArgumentNullException(nameof(key));

    /// <summary>The key id written into every payload.</summary>
    public ushort KeyId => _key.KeyId;

    /// <summary>Signs <paramref name="message"/> and returns the complete format-version-1 user_data_unregistered
    /// payload (83 bytes plus the MessagePack body).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    public byte[] Sign(CatEveningMessage message)
    {
        if (message is null) throw new ArgumentNullException(nameof(message));
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteHeader(buffer, CatEveningSei.FormatVersion, _key.KeyId);
        MessageBody.Write(buffer, message);
        var bodyLength = buffer.WrittenCount - CatEveningSei.BodyOffset;
        if (bodyLength > CatEveningSei.MaxBodyLength)
            throw new ArgumentException($"the body is {bodyLength} bytes, at most {CatEveningSei.MaxBodyLength}", nameof(message));
        return Finish(buffer);
    }

    /// <summary>Signs <paramref name="bundle"/> (everything due on one frame) and returns the complete format-version-2
    /// user_data_unregistered payload (83 bytes plus the MessagePack body, at most 65,536 bytes).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="bundle"/> is null.</exception>
    /// <exception cref="ArgumentException">The body would exceed 65,453 bytes.</exception>
    public byte[] Sign(MessageBundle bundle)
    {
        if (bundle is null) throw new ArgumentNullException(nameof(bundle));
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteHeader(buffer, CatEveningSei.FormatVersion2, _key.KeyId);
        MessageBody.Write(buffer, bundle);
        var bodyLength = buffer.WrittenCount - CatEveningSei.BodyOffset;
        if (bodyLength > CatEveningSei.MaxBundleBodyLength)
            throw new ArgumentException($"the body is {bodyLength} bytes, at most {CatEveningSei.MaxBundleBodyLength}", nameof(bundle));
        return Finish(buffer);
    }

    /// <summary>Signs an arbitrary body with an arbitrary version: for test vectors and negative tests only.</summary>
    internal byte[] SignRaw(byte version, ReadOnlySpan<byte> body)
    {
        var buffer = new ArrayBufferWriter<byte>(CatEveningSei.Overhead + body.Length);
        WriteHeader(buffer, version, _key.KeyId);
        buffer.Write(body);
        return Finish(buffer);
    }

    private static void WriteHeader(ArrayBufferWriter<byte> buffer, byte version, ushort keyId)
    {
        var header = buffer.GetSpan(CatEveningSei.BodyOffset);
        CatEveningSei.Uuid.CopyTo(header);
        header[CatEveningSei.VersionOffset] = version;
        BinaryPrimitives.WriteUInt16BigEndian(header.Slice(CatEveningSei.KeyIdOffset), keyId);
        buffer.Advance(CatEveningSei.BodyOffset);
    }

    private byte[] Finish(ArrayBufferWriter<byte> buffer)
    {
        var signed = buffer.WrittenCount;
        var payload = new byte[signed + CatEveningSei.SignatureLength];
        buffer.WrittenSpan.CopyTo(payload);
        _key.Sign(payload.AsSpan(0, signed), payload.AsSpan(signed));
        return payload;
    }
}
#endif
