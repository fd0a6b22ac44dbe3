using System.CommandLine;
using CatEvening.LatencyProbe.Device;
using CatEvening.LatencyProbe.Instruments;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Cli;

/// <summary><c>latency-probe device PORT</c>: the photodiode hardware probe.</summary>
internal static class DeviceCommand
{
    public static Command Create()
    {
        var port = new Argument<string>("PORT") { Description = "Serial port of the probe: /dev/ttyACM0, /dev/ttyUSB0, COM3." };
        var baud = new Option<int>("--baud") { Description = "Baud rate (USB CDC boards ignore it).", DefaultValueFactory = _ => 115200 };
        var maxDelay = new Option<int>("--max-delay") { Description = "Longest plausible delay in ms; flashes must come further apart.", DefaultValueFactory = _ => 1000 };
        var tolerance = new Option<int>("--jump-tolerance") { Description = "Delays further than this (ms) from the recent median are held back until three agree.", DefaultValueFactory = _ => 100 };
        var common = new CommonOptions();
        var command = new Command("device", "Glass-to-glass delay from the photodiode probe: studio flash (channel 0) to screen (channel 1).") { port, baud, maxDelay, tolerance };
        common.AddTo(command);
        command.SetAction(async (result, cancel) =>
        {
            var options = new DeviceOptions
            {
                PortName = result.GetValue(port)!,
                BaudRate = result.GetValue(baud),
                MaxDelay = TimeSpan.FromMilliseconds(result.GetValue(maxDelay)),
                JumpTolerance = TimeSpan.FromMilliseconds(result.GetValue(tolerance)),
            };
            common.UseLogFormat(result);
            var recorder = new LatencyRecorder("device", DateTimeOffset.UtcNow);
            var instrument = new DeviceInstrument(options, recorder, ProbeLog.Writer);
            using var interrupt = new Interrupt(cancel);
            var report = await InstrumentHost.RunAsync(recorder, common.Limits(result), common.Outputs(result), instrument.RunAsync, interrupt.Token).ConfigureAwait(false);
            return Program.Finish(report);
        });
        return command;
    }
}
