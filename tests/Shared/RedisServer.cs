using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace CatEvening.Tests.Shared;

/// <summary>
/// A real Redis for the tests: Debian's <c>redis-server</c> on a free loopback port, with its own data folder in the
/// temp area and the append-only file on (<c>appendfsync always</c>, so a server killed mid-test keeps every write it
/// acknowledged). <see cref="Stop"/> and <see cref="Start"/> again on the same port and folder model a bus that goes
/// away and comes back with its data. Disposing stops it and deletes the folder.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly string _dir;
    private Process? _process;

    private RedisServer(int port, string dir)
    {
        Port = port;
        _dir = dir;
    }

    /// <summary>Loopback address the server listens on.</summary>
    public string Host => "127.0.0.1";

    /// <summary>TCP port the server listens on.</summary>
    public int Port { get; }

    /// <summary>True while the server runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary><c>host:port</c>.</summary>
    public string Endpoint => $"{Host}:{Port}";

    /// <summary>The cue bus URL of <paramref name="show"/> on this server (<c>redis://127.0.0.1:PORT/SHOW</c>).</summary>
    public string BusUrl(string show) => $"redis://{Host}:{Port}/{show}";

    /// <summary>The server's log, for failure messages.</summary>
    public string Log
    {
        get
        {
            try
            {
                using var stream = new FileStream(Path.Combine(_dir, "redis.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                return new StreamReader(stream).ReadToEnd();
            }
            catch (IOException e)
            {
                return $"(no log: {e.Message})";
            }
        }
    }

    /// <summary>Starts a new redis-server on a free loopback port with an empty data folder of its own.</summary>
    /// <exception cref="InvalidOperationException">redis-server is not installed or does not come up.</exception>
    public static RedisServer StartPrivate()
    {
        const int attempts = 5;
        for (var attempt = 1; ; attempt++)
        {
            var dir = Path.Combine(Path.GetTempPath(), "catevening-redis-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            var server = new RedisServer(NginxRtmp.FreeTcpPort(), dir);
            try
            {
                server.Start();
                return server;
            }
            catch (InvalidOperationException) when (attempt < attempts)
            {
                // Another process took the port between probing and redis binding it: try another one.
                server.Dispose();
            }
        }
    }

    /// <summary>Starts (again) the server, same port and data folder, and waits until it answers PING.</summary>
    public void Start()
    {
        if (IsRunning) return;
        var psi = new ProcessStartInfo("redis-server")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // No config file: everything on the command line, nothing outside the data folder, no RDB snapshots (the AOF
        // alone is the durability under test).
        foreach (var a in (string[])["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", Host,
                     "--dir", _dir, "--logfile", "redis.log", "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                     "--daemonize", "no", "--protected-mode", "yes"])
            psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start redis-server");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed: run scripts/install-deps.sh or `apt-get install redis-server` (" + e.Message + ")", e);
        }
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!Pings())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                Stop();
                throw new InvalidOperationException($"redis-server is not answering on {Endpoint}:\n{Log}");
            }
            Thread.Sleep(20);
        }
    }

    /// <summary>Kills the server (SIGKILL: a bus that dies, not one that shuts down politely) and waits for the port to close.</summary>
    public void Stop()
    {
        var process = _process;
        if (process is null) return;
        _process = null;
        ServerProcess.Kill(process, Pings);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Stop();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temp area.
        }
    }

    // One inline PING over a raw socket: the fixture needs no client library.
    private bool Pings()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(Host, Port);
            var stream = client.GetStream();
            stream.ReadTimeout = 5000;
            stream.Write("PING\r\n"u8);
            var buffer = new byte[64];
            var n = stream.Read(buffer);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return false;
        }
    }
}
