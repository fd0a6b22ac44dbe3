using System.Net;

namespace CatEvening.LatencyProbe.Tests.Sei;

/// <summary>Serves the files of one folder over HTTP on loopback, as a CDN origin serves HLS: 404 for what is not there.</summary>
internal sealed class StaticHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _root;
    private readonly Task _loop;

    public StaticHttpServer(string root)
    {
        _root = Path.GetFullPath(root);
        var attempts = 0;
        while (true)
        {
            using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Prefix = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/";
            }
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add(Prefix);
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (++attempts < 5)
            {
                // Another process took the port between the probe and the listener: pick another.
            }
        }
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>The server's base URL, ending in a slash.</summary>
    public string Prefix { get; private set; } = "";

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => Serve(context));
        }
    }

    private async Task Serve(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var path = Path.GetFullPath(Path.Combine(_root, Uri.UnescapeDataString(context.Request.Url!.AbsolutePath.TrimStart('/'))));
            if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(path))
            {
                response.StatusCode = 404;
                return;
            }
            var body = await File.ReadAllBytesAsync(path);
            response.ContentType = path.EndsWith(".m3u8", StringComparison.Ordinal) ? "application/vnd.apple.mpegurl" : "video/mp2t";
            response.ContentLength64 = body.Length;
            await response.OutputStream.WriteAsync(body);
        }
        catch (Exception e) when (e is IOException or HttpListenerException or UnauthorizedAccessException)
        {
            // The client went away or the segmenter just deleted the file: nothing to serve.
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                // The client is gone.
            }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
