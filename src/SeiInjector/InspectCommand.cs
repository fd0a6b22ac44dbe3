using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiInjector.Cli;

/// <summary><c>sei-inject inspect</c>: lists the CatEvening messages of a stream and checks their signatures.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "Stream to read: a file, - or pipe:0 (standard input), rtmp://…, srt://… (anything FFmpeg opens)." };
        var publicKey = new Option<string?>("--public-key") { Description = "Public key (PEM) to verify signatures with; without it messages are listed but not verified." };
        var json = new Option<bool>("--json") { Description = "One JSON object per message occurrence (pts_time, fire_time, kind, id, seq, transmission_seq, verified, error, first, …)." };
        var inputFormat = new Option<string?>("--input-format") { Description = "Input format (FFmpeg demuxer name), needed for pipes." };
        var frameRate = new Option<Rational?>("--frame-rate")
        {
            Description = "Frame rate to stamp a raw H.264/H.265 input (--input-format h264|hevc) at, as run --frame-rate; default: its SPS (or VPS) timing, else 25.",
            CustomParser = RunCommand.ParseFrameRate,
        };
        var command = new Command("inspect", "List every CatEvening message in a stream's video, where it fires, and whether its signature verifies.")
        {
            url, publicKey, json, inputFormat, frameRate,
        };
        command.SetAction(parsed =>
        {
            using var key = parsed.GetValue(publicKey) is { } path ? KeyFiles.ReadPublic(path) : null;
            var asJson = parsed.GetValue(json);
            var failed = 0;
            var badSignatures = 0;
            var count = 0;
            using var stdout = Console.OpenStandardOutput();
            using var writer = new Utf8JsonWriter(stdout);
            var inspector = new StreamInspector(key);
            var refusals = new RefusalRun(Console.Out);
            try
            {
                inspector.Inspect(MediaUrl.Input(parsed.GetValue(url)!), parsed.GetValue(inputFormat), TimeSpan.FromSeconds(10), m =>
                {
                    count++;
                    if (key != null && !m.Verified)
                    {
                        failed++;
                        if (m.Rejection == RejectionReason.BadSignature) badSignatures++;
                    }
                    if (asJson) WriteJson(writer, stdout, m);
                    else if (key == null || !refusals.Absorb(m)) Console.Out.WriteLine(Describe(m));
                }, frameRate: parsed.GetValue(frameRate));
            }
            catch (Exception e) when (e is FFmpegException or InjectionException)
            {
                throw new CliException(ExitCodes.StreamFailed, e.Message);
            }
            finally
            {
                refusals.End();
            }
            // Broken SEI (an encoder's, before or around ours) is skipped and does not hide what follows it; counted here so
            // that a stream with fewer messages than expected says why it may have.
            var malformed = inspector.MalformedSei > 0 ? $"; {inspector.MalformedSei} malformed SEI NAL unit(s) or message(s) skipped" : "";
            // The summary and the hint below go to stderr, with --json too (its stdout stays the JSON lines).
            Console.Error.WriteLine(key == null
                ? $"sei-inject: {count} message occurrence(s), not verified (no --public-key){malformed}"
                : $"sei-inject: {count} message occurrence(s), {count - failed} verified, {failed} not verified{malformed}");
            // Not one verified, each for a bad signature under the right key id: almost always the wrong public key with
            // the same id (keygen gives id 1 unless told otherwise), not a tampered stream.
            if (key != null && count > 0 && badSignatures == count)
                Console.Error.WriteLine($"sei-inject: not one message verified, each for a bad signature under key id {key.KeyId}: is {parsed.GetValue(publicKey)} " +
                    "the public half of the key the injector signed with? (keygen gives key id 1 unless --key-id is given: give each key pair its own id)");
            return failed > 0 ? ExitCodes.NotVerified : ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteJson(Utf8JsonWriter w, Stream stdout, InspectedMessage m)
    {
        w.Reset(stdout);
        w.WriteStartObject();
        WriteNumberOrNull(w, "pts_time", m.PtsTime);
        WriteNumberOrNull(w, "fire_time", m.FireTime);
        WriteNumberOrNull(w, "target_time", m.TargetTime);
        if (m.TargetBeforeFirstFrame) w.WriteBoolean("target_before_first_frame", true);
        if (m.Kind is { } kind) w.WriteString("kind", kind);
        else w.WriteNull("kind");
        if (m.Message is CueMessage cue) w.WriteString("id", cue.CueId);
        else w.WriteNull("id");
        if (m.Message is { } message)
        {
            w.WriteNumber("seq", message.SequenceNumber);
            w.WriteString("stream", message.StreamId);
        }
        else
        {
            w.WriteNull("seq");
            w.WriteNull("stream");
        }
        if (m.TransmissionSequence is { } transmission) w.WriteNumber("transmission_seq", transmission);
        else w.WriteNull("transmission_seq");
        w.WriteNumber("format_version", m.FormatVersion);
        w.WriteBoolean("verified", m.Verified);
        if (m.Error is { } error) w.WriteString("error", error);
        else w.WriteNull("error");
        w.WriteBoolean("first", m.First);
        w.WriteNumber("frame", m.FrameIndex);
        if (m.Pts is { } pts) w.WriteNumber("pts", pts);
        else w.WriteNull("pts");
        w.WriteNumber("key_id", m.KeyId);
        switch (m.Message)
        {
            case CueMessage c:
                w.WriteNumber("window", c.WindowTicks / 90_000.0);
                w.WriteNumber("spread", c.SpreadMicros / 1_000_000.0);
                WriteAppData(w, c.AppData.Span);
                break;
            case HeartbeatMessage h:
                w.WriteString("wall_clock", DateTime.UnixEpoch.AddTicks(h.InjectionWallClockMicros * TimeSpan.TicksPerMicrosecond).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
                w.WriteNumber("carrier_pts_90k", h.CarrierPts);
                w.WriteNumber("clock_uncertainty_us", h.ClockUncertaintyMicros);
                break;
        }
        w.WriteEndObject();
        w.Flush();
        stdout.WriteByte((byte)'\n');
        stdout.Flush();
    }

    // App data is the schedule's JSON: embedded as JSON when it parses, otherwise as base64.
    private static void WriteAppData(Utf8JsonWriter w, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            w.WriteNull("data");
            return;
        }
        try
        {
            using var doc = JsonDocument.Parse(data.ToArray());
            w.WritePropertyName("data");
            doc.RootElement.WriteTo(w);
        }
        catch (JsonException)
        {
            w.WriteBase64String("data_base64", data);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v) w.WriteNumber(name, Math.Round(v, 6));
        else w.WriteNull(name);
    }

    /// <summary>
    /// The text output's guard against floods (field case H10: one access unit with thousands of bogus payloads, each
    /// refused): the first refusal of a run is printed in full, the rest of the run (same access unit, same reason)
    /// becomes one line with their count when the run ends. <c>--json</c> keeps one object per message.
    /// </summary>
    private sealed class RefusalRun(TextWriter output)
    {
        private long _frame = -1;
        private string? _reason; // the verifier's RejectionReason: the error's detail varies per payload
        private string _at = "";
        private long _more;

        /// <summary>True when <paramref name="m"/> belongs to the current run and was counted instead of printed.</summary>
        public bool Absorb(InspectedMessage m)
        {
            var reason = m.Verified ? null : m.Rejection?.ToString();
            if (reason is not null && reason == _reason && m.FrameIndex == _frame)
            {
                _more++;
                return true;
            }
            End();
            if (reason is not null)
            {
                (_frame, _reason, _at, _more) = (m.FrameIndex, reason, At(m), 0);
            }
            return false;
        }

        /// <summary>Prints the count of the run that ended, if it had more than its first refusal.</summary>
        public void End()
        {
            if (_more > 0)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"frame {_frame,6} pts {_at,10}  … {_more:N0} more messages refused: {_reason}"));
            (_frame, _reason, _more) = (-1, null, 0);
        }
    }

    private static string At(InspectedMessage m) => m.PtsTime is { } p ? p.ToString("0.000", CultureInfo.InvariantCulture) + "s" : "no-pts";

    // A target before the recording's first frame fires on that frame for a reader fed from the start, and on arrival for
    // one that joins at this carrier: said so, not shown as a bare 0.000s.
    private static string Fires(InspectedMessage m)
    {
        var fire = m.FireTime?.ToString("0.000", CultureInfo.InvariantCulture) ?? "?";
        return m.TargetBeforeFirstFrame && m.TargetTime is { } t
            ? string.Create(CultureInfo.InvariantCulture, $"{fire}s (first frame; its target {t:0.000}s came before the stream began)")
            : fire + "s";
    }

    private static string Describe(InspectedMessage m)
    {
        var at = At(m);
        var what = m.Message switch
        {
            // An interaction-end or cancel carries the id of the cue it closes (docs/sei-format.md): said so, not shown as its own.
            CueMessage c => $"{m.Kind,-17} {(c.Kind is MessageKind.InteractionEnd or MessageKind.Cancel ? "closes " : "")}{c.CueId} seq {c.SequenceNumber} fires {Fires(m)}",
            HeartbeatMessage h => $"{m.Kind,-17} seq {h.SequenceNumber} wall {DateTimeOffset.UnixEpoch.AddTicks(h.InjectionWallClockMicros * TimeSpan.TicksPerMicrosecond):HH:mm:ss.ffffff}",
            _ => "unreadable message",
        };
        var status = m.Verified ? "verified" : $"NOT verified ({m.Error})";
        // A payload whose body could not be read has no sequence number to be a repeat of.
        return $"frame {m.FrameIndex,6} pts {at,10}  {what}  {status}{(m.First || m.Message is null ? "" : " (repeat)")}";
    }
}
