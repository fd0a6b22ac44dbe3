using System.Diagnostics;
using System.Text;

namespace CatEvening.LatencyProbe;

/// <summary>
/// The <c>ffmpeg</c> command-line tool as a child process with piped standard input/output; standard error is
/// kept (last 8 KiB) to explain failures.
/// </summary>
internal sealed class FfmpegProcess : IDisposable
{
    private const int StderrKeep = 8192;
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private FfmpegProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data == null) return;
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
                if (_stderr.Length > StderrKeep) _stderr.Remove(0, _stderr.Length - StderrKeep);
            }
        };
        _process.BeginErrorReadLine();
    }

    /// <summary>Standard input of ffmpeg (the raw frames to encode).</summary>
    public Stream Input => _process.StandardInput.BaseStream;

    /// <summary>Standard output of ffmpeg (the decoded raw frames).</summary>
    public Stream Output => _process.StandardOutput.BaseStream;

    /// <summary>The last lines ffmpeg wrote to standard error.</summary>
    public string ErrorText
    {
        get { lock (_stderr) return _stderr.ToString().Trim(); }
    }

    /// <summary>Whether ffmpeg has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Exit code, once exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>ffmpeg</c> (or <c>$CATEVENING_FFMPEG</c>) with the arguments.</summary>
    /// <exception cref="InvalidOperationException">ffmpeg cannot be started; the message says how to install it.</exception>
    public static FfmpegProcess Start(IEnumerable<string> arguments)
    {
        var program = Environment.GetEnvironmentVariable("CATEVENING_FFMPEG") is { Length: > 0 } p ? p : "ffmpeg";
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        try
        {
            return new FfmpegProcess(Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}"));
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot start {program} ({e.Message}): install FFmpeg (apt-get install ffmpeg, brew install ffmpeg) or set CATEVENING_FFMPEG", e);
        }
    }

    /// <summary>Closes ffmpeg's input (end of stream) and waits for it to finish.</summary>
    public async Task<int> CompleteAsync(TimeSpan timeout)
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // ffmpeg already went away; its exit code and error text tell why.
        }
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill();
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        return _process.ExitCode;
    }

    /// <summary>Stops ffmpeg now.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
