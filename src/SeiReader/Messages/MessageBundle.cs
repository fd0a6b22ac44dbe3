using System;
using System.Collections.Generic;
using System.Linq;

namespace CatEvening.SeiReader.Messages;

/// <summary>
/// The body of a format-version-2 payload: everything due on one frame (new cues, carousel repeats, closes, a
/// heartbeat), signed once, under one <b>transmission sequence number</b> that increases strictly in transmission
/// order per stream. Web players that read only the first <c>sei_message()</c> of an SEI NAL (mpegts.js, flv.js) or
/// the first user-data SEI of a frame (hls.js before PR #4242) still see every message.
/// <para>Each cue keeps its own identity: <see cref="CatEveningMessage.SequenceNumber"/> of a <see cref="CueMessage"/>
/// is the <b>cue sequence number</b>, the same on every repeat, so a reader reports a cue once. A heartbeat has no
/// identity beyond its transmission: its <see cref="CatEveningMessage.SequenceNumber"/> is the bundle's. Every entry
/// carries the bundle's stream id and issued-at.</para>
/// </summary>
public sealed class MessageBundle : IEquatable<MessageBundle>
{
    private readonly CatEveningMessage[] _messages;

    /// <summary>Creates a bundle.</summary>
    /// <param name="streamId">Stream id, 1-64 UTF-8 bytes; every message must carry it.</param>
    /// <param name="sequenceNumber">Transmission sequence number, 0 to 2^53 − 1.</param>
    /// <param name="issuedAtMicros">Wall clock at signing (µs since the Unix epoch), |value| ≤ 2^53 − 1; every message must carry it.</param>
    /// <param name="messages">1 to 256 messages: cues with distinct sequence numbers and at most one heartbeat, whose
    /// sequence number is <paramref name="sequenceNumber"/>. Every integer field within ±(2^53 − 1). Copied.</param>
    /// <exception cref="ArgumentException">A rule above is broken; the message names it.</exception>
    public MessageBundle(string streamId, long sequenceNumber, long issuedAtMicros, IEnumerable<CatEveningMessage> messages)
    {
        CatEveningMessage.RequireId(streamId, nameof(streamId));
        RequireSafe(sequenceNumber, nameof(sequenceNumber), nonNegative: true);
        RequireSafe(issuedAtMicros, nameof(issuedAtMicros), nonNegative: false);
        if (messages is null) throw new ArgumentNullException(nameof(messages));
        _messages = messages.ToArray();
        if (_messages.Length is 0 or > CatEveningSei.MaxBundleEntries)
            throw new ArgumentException($"holds {_messages.Length} messages, 1 to {CatEveningSei.MaxBundleEntries} allowed", nameof(messages));
        var cues = new HashSet<long>();
        var heartbeats = 0;
        foreach (var m in _messages)
        {
            if (m is null) throw new ArgumentException("holds a null message", nameof(messages));
            if (m.StreamId != streamId) throw new ArgumentException($"message {m} is for stream '{m.StreamId}', the bundle for '{streamId}'", nameof(messages));
            if (m.IssuedAtMicros != issuedAtMicros) throw new ArgumentException($"message {m} was issued at {m.IssuedAtMicros}, the bundle at {issuedAtMicros}", nameof(messages));
            switch (m)
            {
                case CueMessage c:
                    if (!cues.Add(c.SequenceNumber)) throw new ArgumentException($"cue sequence number {c.SequenceNumber} appears twice", nameof(messages));
                    RequireSafe(c.SequenceNumber, "cue sequence number", nonNegative: true);
                    RequireSafe(c.TargetOffsetTicks, "target offset", nonNegative: false);
                    RequireSafe(c.WindowTicks, "window", nonNegative: true);
                    RequireSafe(c.SpreadMicros, "spread", nonNegative: true);
                    break;
                case HeartbeatMessage h:
                    if (++heartbeats > 1) throw new ArgumentException("holds more than one heartbeat", nameof(messages));
                    if (h.SequenceNumber != sequenceNumber)
                        throw new ArgumentException($"heartbeat sequence number {h.SequenceNumber} is not the bundle's {sequenceNumber}", nameof(messages));
                    RequireSafe(h.InjectionWallClockMicros, "injection wall clock", nonNegative: false);
                    RequireSafe(h.ClockUncertaintyMicros, "clock uncertainty", nonNegative: true);
                    break;
            }
        }
        StreamId = streamId;
        SequenceNumber = sequenceNumber;
        IssuedAtMicros = issuedAtMicros;
    }

    /// <summary>Body field 0: the stream every entry belongs to.</summary>
    public string StreamId { get; }

    /// <summary>Body field 1: the transmission sequence number, strictly increasing per stream in transmission order
    /// (decode order of the carriers); what a reader's replay window checks. Never reused, across restarts included.</summary>
    public long SequenceNumber { get; }

    /// <summary>Body field 2: wall clock (UTC µs since the Unix epoch) at which the bundle was signed.</summary>
    public long IssuedAtMicros { get; }

    /// <summary>Body field 3: the entries, in wire order (cues by cue sequence number, then the heartbeat).</summary>
    public IReadOnlyList<CatEveningMessage> Messages => _messages;

    /// <summary>The heartbeat entry, or null.</summary>
    public HeartbeatMessage? Heartbeat => _messages.OfType<HeartbeatMessage>().FirstOrDefault();

    /// <inheritdoc />
    public bool Equals(MessageBundle? other) =>
        other is not null && StreamId == other.StreamId && SequenceNumber == other.SequenceNumber && IssuedAtMicros == other.IssuedAtMicros &&
        _messages.SequenceEqual(other._messages);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is MessageBundle b && Equals(b);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(StreamId, SequenceNumber, IssuedAtMicros, _messages.Length);

    /// <inheritdoc />
    public override string ToString() => $"bundle stream={StreamId} seq={SequenceNumber} entries={_messages.Length}";

    private static void RequireSafe(long value, string name, bool nonNegative)
    {
        if (value > CatEveningSei.MaxSafeInteger || value < (nonNegative ? 0 : -CatEveningSei.MaxSafeInteger))
            throw new ArgumentOutOfRangeException(name, value, nonNegative ? "must be 0 to 2^53 - 1" : "must be within ±(2^53 - 1)");
    }
}
