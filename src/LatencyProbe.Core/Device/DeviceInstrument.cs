using System.IO.Ports;
using System.Text;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Device;

/// <summary>
/// Reads the photodiode probe on a serial port, pairs its edges and records glass-to-glass delays.
/// Survives the device being unplugged: pending windows are decided, the port is reopened when it comes back,
/// and the device's next <c>H</c> line starts a fresh clock.
/// </summary>
/// <remarks>
/// Counters recorded: <c>unmatched_flashes</c>, <c>unmatched_screen_edges</c>, <c>ambiguous_flashes</c>,
/// <c>outliers</c>, <c>malformed_lines</c>, <c>disconnects</c>. Edges are accepted before any <c>H</c> line, since a probe that
/// was already running when the tool started sent its hello long ago.
/// </remarks>
public sealed class DeviceInstrument
{
    private readonly DeviceOptions _options;
    private readonly LatencyRecorder _recorder;
    private readonly TextWriter _log;
    private readonly EdgePairer _pairer;
    private readonly DeviceClockUnwrapper _clock = new();
    private readonly List<PairingEvent> _events = [];

    /// <summary>Creates the instrument; <paramref name="log"/> receives connection news and malformed lines.</summary>
    public DeviceInstrument(DeviceOptions options, LatencyRecorder recorder, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentNullException.ThrowIfNull(log);
        _options = options;
        _recorder = recorder;
        _log = log;
        _pairer = new EdgePairer((long)options.MinDelay.TotalMicroseconds, (long)options.MaxDelay.TotalMicroseconds, (long)options.JumpTolerance.TotalMicroseconds);
        recorder.SetProperty("port", options.PortName);
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires; blocking reads run on a worker thread.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Run(cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Feeds one protocol line as if the device had sent it; the serial loop uses this for every line.</summary>
    public void ProcessLine(ReadOnlySpan<char> text)
    {
        if (!ProbeLine.TryParse(text, out var line, out var error))
        {
            _recorder.Increment("malformed_lines");
            _log.WriteLine($"device: ignoring line '{Printable(text)}': {error}");
            return;
        }
        switch (line.Kind)
        {
            case ProbeLineKind.Hello:
                Flush();
                _pairer.Reset();
                _clock.Reset();
                _recorder.SetProperty("device", $"{line.Name} {line.Version}");
                _log.WriteLine($"device: {line.Name} version {line.Version}");
                break;
            case ProbeLineKind.Edge:
                _pairer.Add(line.Channel, _clock.Unwrap(line.Microseconds), _events);
                Drain();
                break;
            case ProbeLineKind.Comment:
                break;
        }
    }

    /// <summary>Decides every open window (end of run or the device went away).</summary>
    public void Flush()
    {
        _pairer.Flush(_events);
        Drain();
    }

    private void Run(CancellationToken cancellationToken)
    {
        var connectedOnce = false;
        string? lastFailure = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            SerialPort? port = null;
            try
            {
                port = OpenPort();
                _log.WriteLine(connectedOnce ? $"device: {_options.PortName} is back" : $"device: reading {_options.PortName} at {_options.BaudRate} baud");
                connectedOnce = true;
                ReadLines(port, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
            {
                if (connectedOnce && port?.IsOpen == true)
                {
                    _recorder.Increment("disconnects");
                    _log.WriteLine($"device: {_options.PortName} went away ({e.Message}); waiting for it");
                }
                else if (!connectedOnce && e.Message != lastFailure)
                {
                    _log.WriteLine($"device: cannot open {_options.PortName} ({e.Message}); retrying every {_options.ReconnectInterval.TotalSeconds:0.#} s");
                    lastFailure = e.Message;
                }
                Flush();
            }
            finally
            {
                port?.Dispose();
            }
            cancellationToken.WaitHandle.WaitOne(_options.ReconnectInterval);
        }
        Flush();
    }

    private SerialPort OpenPort()
    {
        // Boards with native USB (RP2040, Leonardo) only send once the host raises DTR; ports without modem
        // lines (pseudo-terminals, some bridges) refuse that ioctl, and are opened without it.
        var port = new SerialPort(_options.PortName, _options.BaudRate) { ReadTimeout = 200, DtrEnable = true };
        try
        {
            port.Open();
            return port;
        }
        catch (IOException)
        {
            port.Dispose();
        }
        port = new SerialPort(_options.PortName, _options.BaudRate) { ReadTimeout = 200 };
        try
        {
            port.Open();
            return port;
        }
        catch
        {
            port.Dispose();
            throw;
        }
    }

    private void ReadLines(SerialPort port, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var line = new StringBuilder();
        var stream = port.BaseStream;
        while (!cancellationToken.IsCancellationRequested)
        {
            int read;
            try
            {
                read = stream.Read(buffer, 0, buffer.Length);
            }
            catch (TimeoutException)
            {
                continue;
            }
            if (read == 0) throw new IOException("end of stream");
            for (var i = 0; i < read; i++)
            {
                var b = buffer[i];
                if (b == (byte)'\n')
                {
                    ProcessLine(line.ToString());
                    line.Clear();
                }
                else if (line.Length <= ProbeLine.MaxLength)
                {
                    line.Append(b is >= 0x20 and < 0x7F or (byte)'\r' ? (char)b : '?');
                }
            }
        }
    }

    private void Drain()
    {
        foreach (var e in _events)
        {
            switch (e.Outcome)
            {
                case PairingOutcome.Paired:
                    var ms = e.DelayMicroseconds / 1000.0;
                    _recorder.Add(new LatencySample(UnixTime.NowMicroseconds(), ms, _options.UncertaintyMilliseconds(ms)));
                    break;
                case PairingOutcome.UnmatchedFlash:
                    _recorder.Increment("unmatched_flashes");
                    break;
                case PairingOutcome.UnmatchedScreenEdge:
                    _recorder.Increment("unmatched_screen_edges");
                    break;
                case PairingOutcome.AmbiguousFlash:
                    _recorder.Increment("ambiguous_flashes");
                    break;
                case PairingOutcome.Outlier:
                    _recorder.Increment("outliers");
                    break;
            }
        }
        _events.Clear();
    }

    private static string Printable(ReadOnlySpan<char> text) =>
        text.Length > 60 ? string.Concat(text[..60], "...") : text.ToString();
}
