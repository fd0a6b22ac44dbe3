using System.CommandLine;

namespace CatEvening.SeiInjector.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand(
            "sei-inject: splices signed CatEvening SEI messages (cues from a run-of-show schedule, and wall-clock " +
            "heartbeats) into a live H.264/H.265 stream with stream copy: video frames, audio and timestamps are untouched.\n" +
            "A URL of - is standard input (run -i, inspect) or standard output (run -o), as for ffmpeg.\n" +
            "Exit codes: 0 done (also after SIGINT/SIGTERM: output closed, audit log flushed), 1 stream failed or nothing written, 2 bad command line (-i and -o one file included) or request refused, 3 bad file, 4 FFmpeg missing, 5 not verified (inspect).")
        {
            RunCommand.Create(),
            KeygenCommand.Create(),
            InspectCommand.Create(),
            LiveCommands.CreateCue(),
            LiveCommands.CreateStatus(),
        };
        try
        {
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var error in parsed.Errors) Console.Error.WriteLine($"sei-inject: {error.Message}");
                var verb = parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ";
                Console.Error.WriteLine($"See: sei-inject {verb}--help");
                return ExitCodes.Usage;
            }
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"sei-inject: {e.Message}");
            return e.ExitCode;
        }
        catch (DllNotFoundException e)
        {
            Console.Error.WriteLine($"sei-inject: {e.Message}");
            return ExitCodes.FFmpegMissing;
        }
        // The last line of defence: a bug anywhere else is reported as one (exit 70, README), never left unhandled (134).
        catch (Exception e)
        {
            Console.Error.WriteLine($"sei-inject: internal error (a bug; please report it with what follows): {e}");
            return ExitCodes.InternalError;
        }
    }
}
