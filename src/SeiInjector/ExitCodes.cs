namespace CatEvening.SeiInjector.Cli;

/// <summary>Process exit codes of <c>sei-inject</c>; README.md, section "sei-inject", lists them for operators.</summary>
internal static class ExitCodes
{
    /// <summary>Done: the input ended, or run was stopped by SIGINT/SIGTERM, and the output was closed properly (trailer written, audit log flushed); or keygen/inspect/cue/status succeeded.</summary>
    public const int Ok = 0;

    /// <summary>The stream failed: input or output error, I/O timeout, or a packet that cannot take the SEI; or nothing was
    /// written: the input ended before the output ever opened, or a file input ended with no packet written.</summary>
    public const int StreamFailed = 1;

    /// <summary>The command line is wrong (unknown option, missing or malformed value; run's input and output naming one
    /// file, refused before either is opened).</summary>
    public const int Usage = 2;

    /// <summary>A file named on the command line is wrong: key (missing, malformed, readable by others), schedule, or an output file that exists.</summary>
    public const int BadFile = 3;

    /// <summary>FFmpeg's shared libraries could not be loaded (the message lists the paths tried and the install command).</summary>
    public const int FFmpegMissing = 4;

    /// <summary>inspect: at least one CatEvening message failed verification.</summary>
    public const int NotVerified = 5;

    /// <summary>An internal error (a bug): the message holds the exception and its stack trace; run's audit log records
    /// "crashed: ..." as the stop reason (EX_SOFTWARE, sysexits.h).</summary>
    public const int InternalError = 70;
}
