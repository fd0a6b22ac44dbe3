using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using CatEvening.ClockSync;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Cli;

/// <summary><c>latency-probe clock serve|query</c>.</summary>
internal static class ClockCommand
{
    public static Command Create() => new("clock", "Clock service (UDP four-timestamp exchange + HTTP ISO time) and its client.")
    {
        CreateServe(),
        CreateQuery(),
    };

    private static Command CreateServe()
    {
        var listen = new Option<string>("--listen")
        {
            Description = "HOST:PORT for UDP and HTTP (same port number).",
            DefaultValueFactory = _ => "0.0.0.0:5123",
            Validators = { Addresses.Validator("--listen", allowPortZero: true) },
        };
        var command = new Command("serve", "Serve this host's UTC time: UDP exchanges for clock query / --clock, HTTP GET for DASH UTCTiming (http-iso).") { listen };
        command.SetAction(async (result, cancel) =>
        {
            var text = result.GetValue(listen)!;
            var endpoint = Addresses.Resolve("--listen", text, allowPortZero: true);
            ClockServer server;
            try
            {
                server = new ClockServer(endpoint, HostClock.Instance);
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                throw new AddressException($"--listen {text}: cannot serve there: {e.Message}", malformed: false, e);
            }
            using var owned = server;
            using var interrupt = new Interrupt(cancel);
            Console.Error.WriteLine($"clock: serving udp://{server.LocalEndPoint} and http://{server.LocalEndPoint}/ (Ctrl+C to stop)");
            try
            {
                await Task.Delay(Timeout.Infinite, interrupt.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"clock: answered {server.Answered} requests, refused {server.Refused} malformed datagrams");
            }
            return 0;
        });
        return command;
    }

    private static Command CreateQuery()
    {
        var server = new Argument<string>("HOST:PORT") { Description = "The clock service.", Validators = { Addresses.ArgumentValidator("clock query:") } };
        var samples = new Option<int>("--samples") { Description = "Exchanges to make.", DefaultValueFactory = _ => 16 };
        var interval = new Option<int>("--interval") { Description = "Milliseconds between exchanges.", DefaultValueFactory = _ => 0 };
        var json = new Option<string?>("--json") { Description = "Write the result as JSON to FILE, or to standard output with -." };
        var command = new Command("query", "Measure this host's clock against the service: offset, round trip, uncertainty.") { server, samples, interval, json };
        command.SetAction(async (result, cancel) =>
        {
            var n = result.GetValue(samples);
            if (n < 1)
            {
                return Program.Fail(ExitCodes.Usage, "--samples must be at least 1");
            }
            var text = result.GetValue(server)!;
            using var client = new ClockClient(Addresses.Resolve("clock query", text));
            ClockQueryResult q;
            try
            {
                q = await client.QueryAsync(n, TimeSpan.FromMilliseconds(result.GetValue(interval)), TimeSpan.FromSeconds(1), cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or SocketException)
            {
                return Program.Fail(ExitCodes.Unreadable, $"clock query {text}: {ClockOption.NoAnswer(e)}");
            }
            Console.Error.WriteLine($"clock: offset {q.OffsetMilliseconds:+0.000;-0.000} ms ± {q.UncertaintyMilliseconds:0.000} ms, min round trip {q.RoundTripMilliseconds:0.000} ms, {q.SamplesUsed}/{q.Samples} exchanges agree, {q.Lost} lost");
            Console.Error.WriteLine($"clock: one exchange alone: offset {q.SingleOffsetMilliseconds:+0.000;-0.000} ms ± {q.SingleUncertaintyMilliseconds:0.000} ms (round trip {q.SingleRoundTripMilliseconds:0.000} ms)");
            if (result.GetValue(json) is { } path) WriteJson(q, path);
            return 0;
        });
        return command;
    }

    /// <summary>JSON: offset_ms, rtt_ms, uncertainty_ms, samples, then the details and the single-exchange figures.</summary>
    private static void WriteJson(ClockQueryResult q, string path)
    {
        using var stream = path == "-" ? Console.OpenStandardOutput() : File.Create(path);
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            ReportWriter.WriteFigure(json, "offset_ms", q.OffsetMilliseconds);
            ReportWriter.WriteFigure(json, "rtt_ms", q.RoundTripMilliseconds);
            ReportWriter.WriteFigure(json, "uncertainty_ms", q.UncertaintyMilliseconds);
            json.WriteNumber("samples", q.Samples);
            json.WriteNumber("samples_used", q.SamplesUsed);
            json.WriteNumber("lost", q.Lost);
            ReportWriter.WriteFigure(json, "drift_ppm", q.DriftPpm);
            json.WriteStartObject("single_exchange");
            ReportWriter.WriteFigure(json, "offset_ms", q.SingleOffsetMilliseconds);
            ReportWriter.WriteFigure(json, "rtt_ms", q.SingleRoundTripMilliseconds);
            ReportWriter.WriteFigure(json, "uncertainty_ms", q.SingleUncertaintyMilliseconds);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        stream.Write("\n"u8);
    }
}
