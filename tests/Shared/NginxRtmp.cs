using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CatEvening.Tests.Shared;

/// <summary>
/// A real RTMP server for the tests: nginx with Debian's <c>libnginx-mod-rtmp</c>, listening on a free loopback port,
/// with its own configuration, logs and pid file in a temporary prefix folder
/// (<c>nginx -e LOG -c CONF -p DIR -g 'daemon off;'</c>). It has one application, <c>live</c>.
/// <para>
/// <see cref="StartShared"/> uses the server that <c>.ci/run</c> started when <c>CATEVENING_NGINX_RTMP=host:port</c> is
/// set, else starts one; <see cref="StartPrivate"/> always starts one, which a test may <see cref="Stop"/> and
/// <see cref="Start"/> again on the same port (an ingest restart). Disposing stops the server this fixture started
/// and deletes its folder.
/// </para>
/// </summary>
public sealed class NginxRtmp : IDisposable
{
    /// <summary>Environment variable naming an RTMP server already running (<c>127.0.0.1:1935</c>).</summary>
    public const string EnvironmentVariable = "CATEVENING_NGINX_RTMP";

    /// <summary>Environment variable naming the error log of that server, so tests can wait for its events.</summary>
    public const string LogEnvironmentVariable = "CATEVENING_NGINX_RTMP_LOG";

    /// <summary>The RTMP application every stream is published to.</summary>
    public const string Application = "live";

    private static readonly string[] ModulePaths =
    [
        "/usr/lib/nginx/modules/ngx_rtmp_module.so",
        "/usr/lib64/nginx/modules/ngx_rtmp_module.so",
        "/usr/local/lib/nginx/modules/ngx_rtmp_module.so",
    ];

    private readonly string? _prefix;
    private readonly string? _logPath;
    private Process? _process;

    private NginxRtmp(string host, int port, string? prefix, string? logPath)
    {
        Host = host;
        Port = port;
        _prefix = prefix;
        _logPath = logPath;
    }

    /// <summary>Loopback address the server listens on.</summary>
    public string Host { get; }

    /// <summary>TCP port the server listens on.</summary>
    public int Port { get; }

    /// <summary>True when this fixture started the server, so it can stop and start it.</summary>
    public bool IsOwned => _prefix != null;

    /// <summary>True while the server this fixture started is running (always true for an external one).</summary>
    public bool IsRunning => !IsOwned || _process is { HasExited: false };

    /// <summary>The server's error log (connections, publish and play events), for failure messages.</summary>
    public string ErrorLog => _logPath is null ? $"(external server: set {LogEnvironmentVariable} to see its log)" : ReadLog(_logPath);

    /// <summary>The URL of a stream in the <c>live</c> application.</summary>
    public string Url(string streamName) => $"rtmp://{Host}:{Port}/{Application}/{streamName}";

    /// <summary>
    /// The server named by <c>CATEVENING_NGINX_RTMP</c>, or a new private one when the variable is unset or that server
    /// does not answer (it is only a saving of start-up time: a test never depends on which one it gets).
    /// </summary>
    public static NginxRtmp StartShared()
    {
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(env)) return StartPrivate();
        var colon = env.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(env.AsSpan(colon + 1), out var port) || port is <= 0 or > 65535)
            throw new InvalidOperationException($"{EnvironmentVariable}='{env}' is not host:port");
        var host = env[..colon];
        if (!IPAddress.TryParse(host, out var address) || !IPAddress.IsLoopback(address))
            throw new InvalidOperationException($"{EnvironmentVariable}='{env}': the tests use loopback addresses only");
        var log = Environment.GetEnvironmentVariable(LogEnvironmentVariable);
        var server = new NginxRtmp(host, port, null, string.IsNullOrWhiteSpace(log) ? null : log);
        try
        {
            server.WaitUntilListening(TimeSpan.FromSeconds(30));
            return server;
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"{EnvironmentVariable}={env} does not answer, starting a private server: {e.Message}");
            return StartPrivate();
        }
    }

    /// <summary>Starts a new nginx on a free loopback port, in a temporary folder of its own.</summary>
    public static NginxRtmp StartPrivate()
    {
        var module = ModulePaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "the nginx RTMP module is not installed (looked in " + string.Join(", ", ModulePaths)
                + "); run scripts/install-deps.sh or `apt-get install nginx libnginx-mod-rtmp`");
        const int attempts = 5;
        for (var attempt = 1; ; attempt++)
        {
            var prefix = Path.Combine(Path.GetTempPath(), "catevening-nginx-" + Guid.NewGuid().ToString("N"));
            var server = new NginxRtmp("127.0.0.1", FreeTcpPort(), prefix, Path.Combine(prefix, "logs", "error.log"));
            try
            {
                server.WriteConfiguration(module);
                server.Start();
                return server;
            }
            catch (InvalidOperationException) when (attempt < attempts)
            {
                // Another process took the port between probing and nginx binding it: try another port.
                server.Dispose();
            }
        }
    }

    /// <summary>Starts (again) the server this fixture owns, on the same port, and waits until it accepts connections.</summary>
    public void Start()
    {
        if (_prefix is null) throw new InvalidOperationException("an external RTMP server cannot be started by the tests");
        if (IsRunning) return;
        var psi = new ProcessStartInfo("nginx")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in (string[])["-e", Path.Combine(_prefix, "logs", "error.log"), "-c", Path.Combine(_prefix, "nginx.conf"), "-p", _prefix + "/", "-g", "daemon off;"])
            psi.ArgumentList.Add(a);
        // nginx writes its pid file once it has bound its port: the sign that what answers there is this server (a
        // killed server leaves its pid file behind).
        File.Delete(PidFile);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start nginx");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            WaitUntilListening(TimeSpan.FromSeconds(60));
        }
        catch (InvalidOperationException)
        {
            Stop();
            throw;
        }
    }

    /// <summary>
    /// Stops the server this fixture owns at once (every publisher and player is disconnected) and waits until the
    /// port is closed.
    /// </summary>
    public void Stop()
    {
        if (_prefix is null) throw new InvalidOperationException("an external RTMP server cannot be stopped by the tests");
        var process = _process;
        if (process is null) return;
        _process = null;
        ServerProcess.Kill(process, CanConnect);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_prefix is null) return;
        Stop();
        try
        {
            Directory.Delete(_prefix, recursive: true);
        }
        catch (IOException)
        {
            // A log still being written by a dying worker: the folder is in the temp area, leave it.
        }
    }

    /// <summary>
    /// Waits until the server has logged <paramref name="count"/> players of <paramref name="streamName"/> since it
    /// started, so a test can start publishing only once its reader listens. Without a log (an external server whose
    /// log is not named) it waits a fixed second instead.
    /// </summary>
    public void WaitForPlayers(string streamName, int count, TimeSpan timeout) =>
        WaitForLog($"play: name='{streamName}'", count, timeout);

    /// <summary>Waits until the server has logged <paramref name="count"/> publishers of <paramref name="streamName"/>.</summary>
    public void WaitForPublishers(string streamName, int count, TimeSpan timeout) =>
        WaitForLog($"publish: name='{streamName}'", count, timeout);

    private void WaitForLog(string fragment, int count, TimeSpan timeout)
    {
        if (_logPath is null)
        {
            Thread.Sleep(TimeSpan.FromSeconds(1));
            return;
        }
        var deadline = DateTime.UtcNow + timeout;
        while (CountOccurrences(ReadLog(_logPath), fragment) < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"nginx-rtmp did not log {count} x \"{fragment}\" in {timeout}:\n{ErrorLog}");
            Thread.Sleep(20);
        }
    }

    private static int CountOccurrences(string text, string fragment)
    {
        var n = 0;
        for (var i = text.IndexOf(fragment, StringComparison.Ordinal); i >= 0; i = text.IndexOf(fragment, i + fragment.Length, StringComparison.Ordinal))
            n++;
        return n;
    }

    /// <summary>A TCP port that was free on 127.0.0.1 a moment ago.</summary>
    public static int FreeTcpPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private void WriteConfiguration(string module)
    {
        Directory.CreateDirectory(Path.Combine(_prefix!, "logs"));
        // A player may connect before the publisher and waits for it (idle streams); play_restart sends it stream
        // EOF when the publisher goes, so a pull ends with the stream; wait_key starts a player on a keyframe.
        // Everything lives under the prefix, nothing in /var.
        File.WriteAllText(Path.Combine(_prefix!, "nginx.conf"), $$"""
            load_module {{module}};
            worker_processes 1;
            error_log logs/error.log info;
            pid logs/nginx.pid;
            events { worker_connections 256; }
            rtmp {
                server {
                    listen {{Host}}:{{Port}};
                    chunk_size 4096;
                    application {{Application}} {
                        live on;
                        record off;
                        wait_key on;
                        play_restart on;
                    }
                }
            }
            """);
    }

    private string PidFile => Path.Combine(_prefix!, "logs", "nginx.pid");

    // An owned server is up once it has written its pid file (after binding the port) and accepts a connection. The
    // connection alone is not enough: another process may have taken the port between the probe and nginx's bind
    // (the test assemblies run at once on a machine with three cores or more), and nginx then exits.
    private void WaitUntilListening(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if ((!IsOwned || WrotePidFile()) && CanConnect()) return;
            if (_process is { HasExited: true } || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"nginx-rtmp is not listening on {Host}:{Port}:\n{ErrorLog}");
            Thread.Sleep(20);
        }
    }

    private bool WrotePidFile()
    {
        try
        {
            return _process is { } p && int.TryParse(File.ReadAllText(PidFile).Trim(), out var pid) && pid == p.Id;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private bool CanConnect()
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(Host, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string ReadLog(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (IOException e)
        {
            return $"(no log: {e.Message})";
        }
    }
}
