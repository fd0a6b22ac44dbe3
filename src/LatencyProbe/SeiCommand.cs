using System.CommandLine;
using CatEvening.FFmpegInterop;
using CatEvening.LatencyProbe.Instruments;
using CatEvening.LatencyProbe.Reporting;
using CatEvening.LatencyProbe.Sei;
using CatEvening.SeiReader.Security;

namespace CatEvening.LatencyProbe.Cli;

/// <summary><c>latency-probe sei URL</c>: continuous latency from the stream's own heartbeats.</summary>
internal static class SeiCommand
{
    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "The stream as viewers get it: rtmp://, http(s):// (HTTP-FLV, HLS), srt://, or a file." };
        var publicKey = new Option<string>("--public-key") { Description = "Public key (PEM, from sei-inject keygen) the heartbeats must be signed with.", Required = true };
        var inputFormat = new Option<string?>("--input-format") { Description = "FFmpeg demuxer name, for pipes." };
        var realTime = new Option<bool>("--realtime") { Description = "Read a file at its own pace, as a live viewer would receive it." };
        var clock = ClockOption.Create();
        var common = new CommonOptions();
        var command = new Command("sei", "Latency per verified heartbeat: synced receive time − the wall clock at which the injector passed the frame.")
        {
            url, publicKey, inputFormat, realTime, clock,
        };
        common.AddTo(command);
        command.SetAction(async (result, cancel) =>
        {
            common.UseLogFormat(result);
            var keyPath = result.GetValue(publicKey)!;
            var keys = new KeyRing();
            try
            {
                keys.AddPem(await File.ReadAllTextAsync(keyPath, cancel).ConfigureAwait(false));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Program.Fail(ExitCodes.Unreadable, $"--public-key {keyPath}: cannot read: {e.Message}");
            }
            catch (KeyFormatException e)
            {
                return Program.Fail(ExitCodes.Unreadable, $"--public-key {keyPath}: not a CatEvening public key ({e.Error}): {e.Message}");
            }
            using var source = await ClockOption.OpenAsync(result.GetValue(clock), cancel).ConfigureAwait(false);
            var recorder = new LatencyRecorder("sei", DateTimeOffset.UtcNow);
            var options = new SeiProbeOptions { Input = result.GetValue(url)!, InputFormat = result.GetValue(inputFormat), RealTime = result.GetValue(realTime) };
            var instrument = new SeiInstrument(options, keys, source.Clock, recorder, ProbeLog.Writer);
            if (!options.RealTime && File.Exists(options.Input))
                ProbeLog.Write("warning", $"sei: {options.Input} is a file read as fast as it demuxes (no --realtime): each latency is the age of its heartbeat (now − when sei-inject passed the frame), not a path's delay");
            using var interrupt = new Interrupt(cancel);
            try
            {
                var report = await InstrumentHost.RunAsync(recorder, common.Limits(result), common.Outputs(result), instrument.RunAsync, interrupt.Token).ConfigureAwait(false);
                return Program.Finish(report, instrument.Diagnosis);
            }
            catch (Exception e) when (e is FFmpegException or InvalidOperationException)
            {
                return Program.Fail(ExitCodes.Unreadable, $"sei {options.Input}: {e.Message}");
            }
        });
        return command;
    }
}
