using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// Anti-replay state of one stream, after RFC 4303 section 3.4.3 (IPsec ESP): the highest sequence number accepted
/// and a bitmap of which of the <c>window</c> numbers below it were accepted. Cues and heartbeats already accepted
/// are remembered (bounded) so that a carousel repeat (same number, same content, new carrier) is told from a
/// replay (same number, other content). Format version 2 numbers transmissions, not messages: the window checks the
/// bundle's number and the cue store tells a cue's repeats (same cue sequence number and content) from a new cue.
/// Both versions share one window per stream, because the injector draws cue and transmission numbers from one counter.
/// </summary>
internal sealed class SequenceWindow
{
    private const int TrackedCues = 4096;
    private const int TrackedHeartbeats = 256;

    private readonly ulong[] _bits;
    private readonly long _window;
    private readonly BoundedStore<CatEveningMessage> _cues = new(TrackedCues);
    private readonly BoundedStore<CatEveningMessage> _heartbeats = new(TrackedHeartbeats);
    private readonly BoundedStore<MessageBundle> _bundles = new(TrackedHeartbeats);
    private long _highest = -1;

    internal SequenceWindow(int window)
    {
        var words = (window + 63) / 64;
        _bits = new ulong[words];
        _window = words * 64L;
    }

    /// <summary>Admits <paramref name="m"/> (and records it) or says why not.</summary>
    internal (VerificationStatus Status, RejectionReason Reason, string? Detail) Admit(CatEveningMessage m)
    {
        var seq = m.SequenceNumber;
        if (_highest >= 0 && seq <= _highest - _window)
            return (VerificationStatus.Rejected, RejectionReason.SequenceTooFarBehind,
                $"sequence number {seq} is {_highest - seq} behind the highest accepted ({_highest}); the window is {_window}");
        if (_highest >= 0 && seq <= _highest && IsSet(seq))
        {
            var store = m is CueMessage ? _cues : _heartbeats;
            if (store.TryGet(seq, out var earlier) && IsSameContent(earlier, m)) return (VerificationStatus.Repeat, RejectionReason.None, null);
            return (VerificationStatus.Rejected, RejectionReason.ReplayedSequence,
                $"sequence number {seq} was already accepted with other content ({earlier?.ToString() ?? "no longer remembered"})");
        }
        if (seq > _highest) Advance(seq);
        Set(seq);
        (m is CueMessage ? _cues : _heartbeats).Add(seq, m);
        return (VerificationStatus.Accepted, RejectionReason.None, null);
    }

    /// <summary>
    /// Format version 2: admits a bundle by its transmission sequence number (same rules as a version-1 number), then
    /// sorts its cues by identity: a cue sequence number not seen before is new, one seen with the same content is a
    /// carousel repeat (left out of <c>Fresh</c>), one seen with other content refuses the whole bundle as
    /// <see cref="RejectionReason.ReplayedSequence"/>. Nothing is recorded unless the bundle is accepted.
    /// </summary>
    internal (VerificationStatus Status, RejectionReason Reason, string? Detail, IReadOnlyList<CatEveningMessage>? Fresh) Admit(MessageBundle b)
    {
        var seq = b.SequenceNumber;
        if (_highest >= 0 && seq <= _highest - _window)
            return (VerificationStatus.Rejected, RejectionReason.SequenceTooFarBehind,
                $"transmission sequence number {seq} is {_highest - seq} behind the highest accepted ({_highest}); the window is {_window}", null);
        if (_highest >= 0 && seq <= _highest && IsSet(seq))
        {
            if (_bundles.TryGet(seq, out var earlier) && earlier.Equals(b)) return (VerificationStatus.Repeat, RejectionReason.None, null, null);
            return (VerificationStatus.Rejected, RejectionReason.ReplayedSequence,
                $"transmission sequence number {seq} was already accepted with other content ({earlier?.ToString() ?? "no longer remembered"})", null);
        }
        var fresh = new List<CatEveningMessage>(b.Messages.Count);
        foreach (var m in b.Messages)
        {
            if (m is CueMessage cue && _cues.TryGet(cue.SequenceNumber, out var known))
            {
                if (known is CueMessage k && cue.IsRepeatOf(k)) continue;
                return (VerificationStatus.Rejected, RejectionReason.ReplayedSequence,
                    $"cue sequence number {cue.SequenceNumber} was already accepted with other content ({known})", null);
            }
            fresh.Add(m);
        }
        if (seq > _highest) Advance(seq);
        Set(seq);
        _bundles.Add(seq, b);
        foreach (var m in fresh)
            if (m is CueMessage cue) _cues.Add(cue.SequenceNumber, cue);
        return (VerificationStatus.Accepted, RejectionReason.None, null, fresh);
    }

    private static bool IsSameContent(CatEveningMessage earlier, CatEveningMessage now) => (earlier, now) switch
    {
        (CueMessage a, CueMessage b) => b.IsRepeatOf(a),
        (HeartbeatMessage a, HeartbeatMessage b) => a.InjectionWallClockMicros == b.InjectionWallClockMicros && a.CarrierPts == b.CarrierPts &&
                                                    a.ClockUncertaintyMicros == b.ClockUncertaintyMicros && a.TimeServer == b.TimeServer,
        _ => false,
    };

    private void Advance(long seq)
    {
        if (_highest < 0 || seq - _highest >= _window) Array.Clear(_bits, 0, _bits.Length);
        else
            for (var s = _highest + 1; s <= seq; s++) Clear(s);
        _highest = seq;
    }

    private bool IsSet(long seq) => (_bits[Word(seq)] & Bit(seq)) != 0;
    private void Set(long seq) => _bits[Word(seq)] |= Bit(seq);
    private void Clear(long seq) => _bits[Word(seq)] &= ~Bit(seq);
    private int Word(long seq) => (int)(seq % _window >> 6);
    private static ulong Bit(long seq) => 1UL << (int)(seq & 63);

    private sealed class BoundedStore<T>
        where T : class
    {
        private readonly int _capacity;
        private readonly Dictionary<long, T> _bySeq = new();
        private readonly Queue<long> _order = new();

        internal BoundedStore(int capacity) => _capacity = capacity;

        internal bool TryGet(long seq, [MaybeNullWhen(false)] out T m) => _bySeq.TryGetValue(seq, out m);

        internal void Add(long seq, T m)
        {
            if (_bySeq.ContainsKey(seq)) return;
            if (_bySeq.Count == _capacity) _bySeq.Remove(_order.Dequeue());
            _bySeq.Add(seq, m);
            _order.Enqueue(seq);
        }
    }
}
