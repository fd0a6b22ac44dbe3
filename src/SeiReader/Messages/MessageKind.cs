using System;

namespace CatEvening.SeiReader.Messages;

/// <summary>What a CatEvening message asks the client to do. The numeric values are the wire values (body field 0).</summary>
public enum MessageKind : byte
{
    /// <summary>An interaction opens at the target presentation time and stays open for the window duration.</summary>
    InteractionStart = 1,

    /// <summary>An open interaction closes at the target presentation time.</summary>
    InteractionEnd = 2,

    /// <summary>A cue is withdrawn: a pending one never opens, an open one closes at the target presentation time.</summary>
    Cancel = 3,

    /// <summary>Periodic liveness and clock message: injection wall clock, carrier PTS and clock uncertainty.</summary>
    Heartbeat = 4,

    /// <summary>An application-defined cue: fires at the target presentation time, meaning given by its app data.</summary>
    Custom = 5,
}

/// <summary>Helpers for <see cref="MessageKind"/>.</summary>
public static class MessageKinds
{
    /// <summary>True for the four cue kinds (everything but <see cref="MessageKind.Heartbeat"/>).</summary>
    public static bool IsCue(this MessageKind kind) =>
        kind is MessageKind.InteractionStart or MessageKind.InteractionEnd or MessageKind.Cancel or MessageKind.Custom;

    /// <summary>True when <paramref name="kind"/> is one of the defined values.</summary>
    public static bool IsDefined(this MessageKind kind) => kind is >= MessageKind.InteractionStart and <= MessageKind.Custom;

    /// <summary>The kebab-case name used in JSON output and the docs: <c>interaction-start</c>, <c>interaction-end</c>,
    /// <c>cancel</c>, <c>heartbeat</c>, <c>custom</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined kind.</exception>
    public static string ToWireName(this MessageKind kind) => kind switch
    {
        MessageKind.InteractionStart => "interaction-start",
        MessageKind.InteractionEnd => "interaction-end",
        MessageKind.Cancel => "cancel",
        MessageKind.Heartbeat => "heartbeat",
        MessageKind.Custom => "custom",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a CatEvening message kind"),
    };

    /// <summary>Parses a name written by <see cref="ToWireName"/>.</summary>
    public static bool TryParseWireName(string? name, out MessageKind kind)
    {
        kind = name switch
        {
            "interaction-start" => MessageKind.InteractionStart,
            "interaction-end" => MessageKind.InteractionEnd,
            "cancel" => MessageKind.Cancel,
            "heartbeat" => MessageKind.Heartbeat,
            "custom" => MessageKind.Custom,
            _ => 0,
        };
        return kind != 0;
    }
}
