using CatEvening.FFmpegInterop;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// While the output is down, the packets read since the last video keyframe (and every other stream's packets read over
/// the same span, in read order), so that a reconnected output starts with a decodable picture at once instead of
/// waiting up to one GOP for the next keyframe; nginx-rtmp's GOP cache does the same for a new player.
/// </summary>
/// <remarks>
/// <para>A video keyframe restarts the cache at itself: what was held before it is evicted. Nothing is held before the
/// first keyframe (a picture that cannot be decoded would only be dropped by the reader). A packet that would take the
/// cache past <see cref="MaxPackets"/> or <see cref="MaxBytes"/> (a stream without keyframes for a long time) evicts
/// everything, and nothing is held again until the next keyframe: the start of a cache must stay a keyframe.</para>
/// <para>No copy and no allocation per packet once warmed up: <see cref="Offer"/> moves the packet's buffer reference
/// (<c>av_packet_move_ref</c>) into one of the cache's own <see cref="Packet"/>s, which are unreferenced and reused after
/// eviction or <see cref="TryTake"/>.</para>
/// </remarks>
public sealed class GopCache : IDisposable
{
    /// <summary>Default bound on packets held: a 10 s GOP of 60 fps video with two 48 kHz AAC streams (about 150 packets a second).</summary>
    public const int DefaultMaxPackets = 2_000;

    /// <summary>Default bound on payload bytes held: a 10 s GOP at 13 Mbit/s.</summary>
    public const long DefaultMaxBytes = 16L * 1024 * 1024;

    private readonly List<Packet> _held = [];
    private readonly Stack<Packet> _free = new();
    private int _next;
    private long _bytes;
    private bool _disposed;

    /// <summary>Creates an empty cache.</summary>
    /// <param name="maxPackets">Most packets held (every stream).</param>
    /// <param name="maxBytes">Most payload bytes held (every stream).</param>
    /// <exception cref="ArgumentOutOfRangeException">A bound is below 1.</exception>
    public GopCache(int maxPackets = DefaultMaxPackets, long maxBytes = DefaultMaxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPackets, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        MaxPackets = maxPackets;
        MaxBytes = maxBytes;
    }

    /// <summary>Most packets held.</summary>
    public int MaxPackets { get; }

    /// <summary>Most payload bytes held.</summary>
    public long MaxBytes { get; }

    /// <summary>Packets held and not yet taken.</summary>
    public int Count => _held.Count - _next;

    /// <summary>Payload bytes of the packets held and not yet taken.</summary>
    public long Bytes => _bytes;

    /// <summary>True when nothing is held: the output has to wait for the next keyframe.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>
    /// Offers a packet read while the output is down. When it is held, its buffer reference and properties are moved
    /// into the cache and <paramref name="packet"/> is left blank; otherwise <paramref name="packet"/> is untouched.
    /// </summary>
    /// <param name="packet">The packet, timestamps as they will be written (the stream's time base).</param>
    /// <param name="isVideo">True for a packet of the video stream, whose keyframes restart the cache.</param>
    /// <returns>Whether the packet is held and how many held packets it evicted: the caller counts those, and a packet not
    /// held, as dropped.</returns>
    public GopCacheOffer Offer(Packet packet, bool isVideo)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var evicted = 0;
        var size = packet.Data.Length;
        if (isVideo && packet.IsKeyframe) evicted = Clear();
        else if (IsEmpty) return new GopCacheOffer(GopCacheOutcome.NoKeyframeYet, 0);
        if (Count + 1 > MaxPackets || _bytes + size > MaxBytes)
            return new GopCacheOffer(GopCacheOutcome.Full, evicted + Clear());
        var held = _free.TryPop(out var reused) ? reused : new Packet();
        packet.MoveTo(held);
        _held.Add(held);
        _bytes += size;
        return new GopCacheOffer(GopCacheOutcome.Held, evicted);
    }

    /// <summary>
    /// Takes the oldest packet held (the keyframe first), moving its buffer reference and properties into the
    /// unreferenced <paramref name="destination"/>. False when nothing is held.
    /// </summary>
    public bool TryTake(Packet destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsEmpty) return false;
        var held = _held[_next++];
        _bytes -= held.Data.Length;
        held.MoveTo(destination);
        _free.Push(held);
        if (_next == _held.Count) Reset();
        return true;
    }

    /// <summary>Evicts everything held; returns how many packets that was (the caller counts them as dropped).</summary>
    public int Clear()
    {
        var evicted = Count;
        for (var i = _next; i < _held.Count; i++)
        {
            _held[i].Unref();
            _free.Push(_held[i]);
        }
        Reset();
        return evicted;
    }

    /// <summary>Frees every packet, held or pooled.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (var i = _next; i < _held.Count; i++) _held[i].Dispose();
        while (_free.TryPop(out var p)) p.Dispose();
        _held.Clear();
    }

    private void Reset()
    {
        _held.Clear();
        _next = 0;
        _bytes = 0;
    }
}

/// <summary>What <see cref="GopCache.Offer"/> did with a packet.</summary>
public enum GopCacheOutcome
{
    /// <summary>Held, to be sent first when the output is back.</summary>
    Held,

    /// <summary>Not held: no keyframe has been read since the output dropped (or since the cache was last full).</summary>
    NoKeyframeYet,

    /// <summary>Not held: it would have taken the cache past a bound, so everything held was evicted too.</summary>
    Full,
}

/// <summary>The result of <see cref="GopCache.Offer"/>.</summary>
/// <param name="Outcome">Whether the packet is held, and why not.</param>
/// <param name="Evicted">Packets held before that this offer evicted (a keyframe restarting the cache, or a bound reached).</param>
public readonly record struct GopCacheOffer(GopCacheOutcome Outcome, int Evicted)
{
    /// <summary>True when the packet is held.</summary>
    public bool IsHeld => Outcome == GopCacheOutcome.Held;

    /// <summary>Packets this offer makes the caller count as dropped: those evicted, and the offered one when not held.</summary>
    public int Dropped => Evicted + (IsHeld ? 0 : 1);
}
