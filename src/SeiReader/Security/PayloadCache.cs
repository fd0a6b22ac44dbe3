using System;
using System.Buffers.Binary;
using System.Security.Cryptography;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// Remembers what verifying exact payload bytes gave (key unknown, signature valid or not, the parsed message or the parse
/// error), so that identical bytes seen again (carousel, redundant paths, re-fed packets) cost a hash and a
/// compare instead of an ECDSA verification. Two-way set-associative: the set is picked from the signature bytes, which
/// are uniformly random for genuine signatures, mixed with a per-instance secret so that forgeries cannot aim at a set;
/// a set holds the two most recently added payloads, so any two payloads seen together (the carousel's pair of a frame,
/// a refusal and the next one) are both remembered whatever the secret. Lookups allocate nothing.
/// </summary>
internal sealed class PayloadCache
{
    private readonly Entry?[] _slots;
    private readonly int _shift;
    private readonly ulong _seed;

    internal PayloadCache(int size)
    {
        var bits = 1; // at least one set of two
        while (1 << bits < size) bits++;
        _slots = new Entry?[1 << bits];
        _shift = 64 - bits;
        var seed = new byte[8];
        using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(seed);
        _seed = BinaryPrimitives.ReadUInt64LittleEndian(seed) | 1;
    }

    internal Entry? Find(ReadOnlySpan<byte> payload)
    {
        var set = Set(payload);
        var e = _slots[set];
        if (e is not null && payload.SequenceEqual(e.Bytes)) return e;
        e = _slots[set + 1];
        return e is not null && payload.SequenceEqual(e.Bytes) ? e : null;
    }

    /// <summary>Remembers <paramref name="payload"/> first in its set; the set's older entry moves to second place and the
    /// one there, if any, is forgotten.</summary>
    internal Entry Add(ReadOnlySpan<byte> payload, bool keyKnown, bool signatureValid, CatEveningMessage? message, MessageBundle? bundle, string? parseError, bool nonCanonical)
    {
        var e = new Entry(payload.ToArray(), keyKnown, signatureValid, message, bundle, parseError, nonCanonical);
        var set = Set(payload);
        _slots[set + 1] = _slots[set];
        _slots[set] = e;
        return e;
    }

    internal void Clear() => Array.Clear(_slots, 0, _slots.Length);

    /// <summary>The index of the first of the set's two slots.</summary>
    private int Set(ReadOnlySpan<byte> payload)
    {
        var sig = payload.Slice(payload.Length - CatEveningSei.SignatureLength);
        var h = BinaryPrimitives.ReadUInt64LittleEndian(sig) ^ BinaryPrimitives.ReadUInt64LittleEndian(sig.Slice(32));
        return (int)(((h ^ _seed) * 0x9E3779B97F4A7C15UL) >> _shift) & ~1;
    }

    internal sealed class Entry
    {
        internal Entry(byte[] bytes, bool keyKnown, bool signatureValid, CatEveningMessage? message, MessageBundle? bundle, string? parseError, bool nonCanonical)
        {
            NonCanonical = nonCanonical;
            Bundle = bundle;
            Bytes = bytes;
            KeyKnown = keyKnown;
            SignatureValid = signatureValid;
            Message = message;
            ParseError = parseError;
        }

        internal byte[] Bytes { get; }

        /// <summary>False when the key id was not in the ring (the cache is emptied whenever the ring changes).</summary>
        internal bool KeyKnown { get; }
        internal bool SignatureValid { get; }

        /// <summary>The signature has a high s: refused before any ECDSA verification.</summary>
        internal bool NonCanonical { get; }
        internal CatEveningMessage? Message { get; }

        /// <summary>Format version 2: the parsed bundle.</summary>
        internal MessageBundle? Bundle { get; }
        internal string? ParseError { get; }

        /// <summary>Set once these bytes were accepted: later copies are repeats.</summary>
        internal bool Accepted { get; set; }
    }
}
