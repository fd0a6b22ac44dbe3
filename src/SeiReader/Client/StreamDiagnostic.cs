using System;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.SeiReader.Client;

/// <summary>What a <see cref="CueReader"/> suspects is wrong with the stream it is fed.</summary>
public enum StreamDiagnostic
{
    /// <summary>
    /// Packet after packet cannot be split into NAL units with the reader's framing, so no SEI can be found: most likely
    /// an Annex B stream (start codes, e.g. MPEG-TS or raw .h264/.h265) read as length-prefixed, or a length-prefixed
    /// stream (MP4, FLV, MKV: avcC/hvcC extradata) read as Annex B, or the wrong length size.
    /// </summary>
    LikelyWrongFraming = 1,
}

/// <summary>A <see cref="CueReader"/> suspects that it is set up wrongly for its stream (raised once per run of bad packets).</summary>
public sealed class StreamDiagnosticEventArgs : EventArgs
{
    internal StreamDiagnosticEventArgs(StreamDiagnostic diagnostic, string message, long packets, NalFraming framing)
    {
        Diagnostic = diagnostic;
        Message = message;
        Packets = packets;
        Framing = framing;
    }

    /// <summary>What is suspected.</summary>
    public StreamDiagnostic Diagnostic { get; }

    /// <summary>The likely cause and the fix, in words for a log or a developer's console.</summary>
    public string Message { get; }

    /// <summary>How many packets in a row showed the problem.</summary>
    public long Packets { get; }

    /// <summary>The framing the reader was created with.</summary>
    public NalFraming Framing { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Diagnostic}: {Message}";
}
