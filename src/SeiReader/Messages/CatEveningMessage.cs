using System;
using System.Text;

namespace CatEvening.SeiReader.Messages;

/// <summary>
/// The fields every CatEvening message body carries (body fields 0-3): kind, stream id, sequence number and issued-at.
/// Instances are immutable; the two concrete kinds are <see cref="CueMessage"/> and <see cref="HeartbeatMessage"/>.
/// </summary>
public abstract class CatEveningMessage
{
    private protected CatEveningMessage(MessageKind kind, string streamId, long sequenceNumber, long issuedAtMicros)
    {
        if (!kind.IsDefined()) throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a CatEvening message kind");
        RequireId(streamId, nameof(streamId));
        if (sequenceNumber < 0) throw new ArgumentOutOfRangeException(nameof(sequenceNumber), sequenceNumber, "must be ≥ 0");
        Kind = kind;
        StreamId = streamId;
        SequenceNumber = sequenceNumber;
        IssuedAtMicros = issuedAtMicros;
    }

    /// <summary>Body field 0: what the message asks for.</summary>
    public MessageKind Kind { get; }

    /// <summary>Body field 1: the stream the message belongs to (1-64 UTF-8 bytes). A verifier rejects other streams.</summary>
    public string StreamId { get; }

    /// <summary>Body field 2: sequence number, monotonic per stream (≥ 0). Carousel repeats of a cue keep the
    /// sequence number of its first transmission.</summary>
    public long SequenceNumber { get; }

    /// <summary>Body field 3: wall clock (UTC, microseconds since the Unix epoch) at which this occurrence was signed.
    /// Every repeat is signed afresh, so the verifier's age check also applies to repeats.</summary>
    public long IssuedAtMicros { get; }

    internal static void RequireId(string? value, string name, int maxBytes = CatEveningSei.MaxIdLength)
    {
        if (value is null) throw new ArgumentNullException(name);
        if (value.Length == 0) throw new ArgumentException("must not be empty", name);
        var bytes = Encoding.UTF8.GetByteCount(value);
        if (bytes > maxBytes) throw new ArgumentException($"is {bytes} UTF-8 bytes, at most {maxBytes}", name);
    }

    /// <summary>True when both messages have the same kind, stream, sequence number and issued-at.</summary>
    private protected bool HeaderEquals(CatEveningMessage other) =>
        Kind == other.Kind && StreamId == other.StreamId && SequenceNumber == other.SequenceNumber && IssuedAtMicros == other.IssuedAtMicros;

    private protected int HeaderHashCode() => HashCode.Combine(Kind, StreamId, SequenceNumber, IssuedAtMicros);
}
