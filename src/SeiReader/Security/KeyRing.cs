using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// The public keys a client trusts, by key id, so that the injector can rotate keys: publish the new public key to
/// the ring, switch the injector, later remove the old one. Thread-safe; verifiers notice changes.
/// </summary>
public sealed class KeyRing
{
    private readonly object _gate = new();
    private Dictionary<ushort, VerificationKey> _keys = new();
    private int _version;

    /// <summary>Creates a ring holding <paramref name="keys"/>.</summary>
    /// <exception cref="ArgumentException">Two keys have the same id.</exception>
    public KeyRing(params VerificationKey[] keys)
    {
        foreach (var k in keys) Add(k);
    }

    /// <summary>Incremented on every change; verifiers drop their caches when it moves.</summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>The key ids in the ring.</summary>
    public IReadOnlyCollection<ushort> KeyIds => Volatile.Read(ref _keys).Keys;

    /// <summary>Adds a key.</summary>
    /// <exception cref="ArgumentException">A key with the same id is already in the ring.</exception>
    public void Add(VerificationKey key)
    {
        if (key is null) throw new ArgumentNullException(nameof(key));
        lock (_gate)
        {
            if (_keys.ContainsKey(key.KeyId)) throw new ArgumentException($"key id {key.KeyId} is already in the ring", nameof(key));
            var copy = new Dictionary<ushort, VerificationKey>(_keys) { [key.KeyId] = key };
            Volatile.Write(ref _keys, copy);
            Interlocked.Increment(ref _version);
        }
    }

    /// <summary>Adds a public key from PEM (see <see cref="VerificationKey.FromPem"/>) and returns it.</summary>
    /// <exception cref="KeyFormatException">Not a P-256 public key PEM, or no key id.</exception>
    /// <exception cref="ArgumentException">A key with the same id is already in the ring.</exception>
    public VerificationKey AddPem(string pem, ushort? keyId = null)
    {
        var key = VerificationKey.FromPem(pem, keyId);
        Add(key);
        return key;
    }

    /// <summary>Removes a key id; messages signed with it are then rejected as unknown key id.</summary>
    public bool Remove(ushort keyId)
    {
        lock (_gate)
        {
            if (!_keys.ContainsKey(keyId)) return false;
            var copy = new Dictionary<ushort, VerificationKey>(_keys);
            copy.Remove(keyId);
            Volatile.Write(ref _keys, copy);
            Interlocked.Increment(ref _version);
            return true;
        }
    }

    /// <summary>Looks a key up by id.</summary>
    public bool TryGet(ushort keyId, [MaybeNullWhen(false)] out VerificationKey key) => Volatile.Read(ref _keys).TryGetValue(keyId, out key);
}
