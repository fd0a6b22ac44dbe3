using System.CommandLine;
using System.Net.Http;
using System.Text;
using CatEvening.SeiInjector.Live;

namespace CatEvening.SeiInjector.Cli;

/// <summary><c>sei-inject cue</c> and <c>sei-inject status</c>: clients of a running injector's control API.</summary>
internal static class LiveCommands
{
    public static Command CreateCue()
    {
        var control = ControlOption();
        var tokenFile = TokenFileOption();
        var id = new Option<string>("--id") { Description = "Cue id (1-64 UTF-8 bytes, unique in the show).", Required = true };
        var kind = new Option<string?>("--kind") { Description = "interaction-start (default), interaction-end, cancel or custom." };
        var at = new Option<string?>("--at") { Description = "When: a stream time from the first video frame (5s, 1m), a presentation time of the source (pts=12.5s: the same frame on every injector of a feed) or a wall clock with offset (2026-11-11T20:30:00+08:00); default: the next frame (on a bus: 1 s from now)." };
        var duration = new Option<string?>("--duration") { Description = "How long the interaction stays open (30s); default 0." };
        var spread = new Option<string?>("--spread") { Description = "Peak-shaving spread viewers apply to their requests (2s); default 0." };
        var data = new Option<string?>("--data") { Description = "Application data as JSON (at most 1024 bytes), e.g. '{\"prize\":\"coupon-50\"}'." };
        var closes = new Option<string?>("--closes") { Description = "For interaction-end and cancel: the id of the cue they close." };
        var bus = CueBusOption();
        var command = new Command("cue", "Fire a cue through a running injector's control API, or straight onto a show's cue bus; prints the answer (exit 0 when accepted).")
        {
            control, tokenFile, bus, id, kind, at, duration, spread, data, closes,
        };
        RequireOneTarget(command, control, tokenFile, bus);
        // The runtime decodes the command line as UTF-8 and puts U+FFFD where bytes do not decode: an id sent that way
        // would silently differ from the one the operator typed (the API refuses invalid UTF-8 with 400; so does this).
        command.Validators.Add(r =>
        {
            foreach (var (name, value) in new[] { ("--id", r.GetValue(id)), ("--closes", r.GetValue(closes)) })
                if (value?.Contains('\uFFFD') == true)
                    r.AddError($"{name} is not valid UTF-8 (byte {Encoding.UTF8.GetByteCount(value[..value.IndexOf('\uFFFD')])} of it does not decode; the terminal's encoding must be UTF-8)");
        });
        command.SetAction(parsed =>
        {
            byte[] body;
            try
            {
                body = CueOrderJson.Write(parsed.GetValue(id)!, parsed.GetValue(kind), parsed.GetValue(at), parsed.GetValue(duration),
                    parsed.GetValue(spread), parsed.GetValue(data), parsed.GetValue(closes));
            }
            catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException)
            {
                throw new CliException(ExitCodes.Usage, $"--data is not valid JSON: {e.Message}");
            }
            if (parsed.GetValue(bus) is { } busUrl)
            {
                if (!CueOrderJson.TryParse(body, out var order, out var error)) throw new CliException(ExitCodes.Usage, error);
                using var cueBus = Bus.CueBus.Open(Bus.CueBusAddress.Parse(busUrl));
                var result = Bus.BusOrders.Fire(cueBus, order!, null, TimeSpan.FromSeconds(1));
                return Answer(result);
            }
            return Call(parsed, control, tokenFile, client => client.FireAsync(body));
        });
        return command;
    }

    private static int Answer(ControlResult result)
    {
        if (result.Outcome == ControlOutcome.Accepted)
        {
            Console.Out.WriteLine(result.Message);
            return ExitCodes.Ok;
        }
        Console.Error.WriteLine("sei-inject: " + result.Message);
        return result.Outcome == ControlOutcome.Unavailable ? ExitCodes.StreamFailed : ExitCodes.Usage;
    }

    private static Option<string?> CueBusOption() => new("--cue-bus")
    {
        Description = "Instead of --control: the show's cue bus, redis://HOST:PORT/SHOW (every injector of the show takes the order from there).",
    };

    private static void RequireOneTarget(Command command, Option<string?> control, Option<string?> tokenFile, Option<string?> bus) =>
        command.Validators.Add(r =>
        {
            if ((r.GetValue(control) is null) == (r.GetValue(bus) is null))
                r.AddError("give either --control (one injector) or --cue-bus (the whole show)");
            if (r.GetValue(control) is not null && r.GetValue(tokenFile) is null)
                r.AddError("--control needs --token-file");
            if (r.GetValue(bus) is { } url && !Bus.CueBusAddress.TryParse(url, out _, out var error))
                r.AddError("--cue-bus " + error);
        });

    public static Command CreateStatus()
    {
        var control = ControlOption();
        var tokenFile = TokenFileOption();
        var bus = CueBusOption();
        var command = new Command("status", "Print a running injector's status (links, last PTS, frames, cues by state, added latency p50/p99, its cue bus with every injector of the show) as JSON; with --cue-bus, every injector of the show as its heartbeat says.")
        {
            control, tokenFile, bus,
        };
        RequireOneTarget(command, control, tokenFile, bus);
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(bus) is not { } busUrl) return Call(parsed, control, tokenFile, client => client.StatusAsync());
            using var cueBus = Bus.CueBus.Open(Bus.CueBusAddress.Parse(busUrl));
            try
            {
                var last = cueBus.LastSequence();
                var injectors = cueBus.Injectors();
                var beats = string.Join(",\n", injectors.Select(i => "    " + (i.Json ?? $"{{\"injector\": \"{i.Name}\", \"state\": \"gone\"}}")));
                Console.Out.WriteLine($"{{\n  \"bus\": \"{cueBus.Address}\",\n  \"bus_seq\": {last},\n  \"injectors\": [\n{beats}\n  ]\n}}");
                return ExitCodes.Ok;
            }
            catch (Bus.CueBusUnavailableException e)
            {
                throw new CliException(ExitCodes.StreamFailed, e.Message);
            }
        });
        return command;
    }

    private static Option<string?> ControlOption() => new("--control")
    {
        Description = "The injector's control API: http://HOST:PORT or HOST:PORT (as given to run --control).",
    };

    private static Option<string?> TokenFileOption() => new("--token-file")
    {
        Description = "File whose first line is the bearer token (the one given to run --token-file).",
    };

    private static int Call(ParseResult parsed, Option<string?> control, Option<string?> tokenFile, Func<ControlClient, Task<ControlClient.Answer>> call)
    {
        byte[] token;
        ControlClient client;
        try
        {
            token = ControlToken.Read(parsed.GetValue(tokenFile)!);
            client = new ControlClient(parsed.GetValue(control)!, token);
        }
        catch (TokenFileException e)
        {
            throw new CliException(ExitCodes.BadFile, e.Message);
        }
        catch (ArgumentException e)
        {
            throw new CliException(ExitCodes.Usage, e.Message);
        }
        using (client)
        {
            ControlClient.Answer answer;
            try
            {
                answer = call(client).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                throw new CliException(ExitCodes.StreamFailed, $"--control {parsed.GetValue(control)}: {e.Message}");
            }
            if (answer.IsSuccess)
            {
                Console.Out.WriteLine(answer.Body);
                return ExitCodes.Ok;
            }
            Console.Error.WriteLine($"sei-inject: the injector answered {answer.Status}: {answer.Body}");
            return answer.Status is 400 or 404 or 409 ? ExitCodes.Usage : ExitCodes.StreamFailed;
        }
    }
}
