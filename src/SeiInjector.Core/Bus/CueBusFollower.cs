using System.Buffers;
using System.Text.Json;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;

namespace CatEvening.SeiInjector.Bus;

/// <summary>
/// One injector's side of the cue bus: a thread that reads the show's orders in order from where this injector left
/// off, applies each to its cue book under the bus's number, and writes the position to the audit log after each
/// batch (a restart reads on from there; an order applied but not yet logged as read is recognised by its cue id and
/// number and not applied twice). It also writes this injector's heartbeat key and reads the others' for the status.
/// When Redis is away the injector goes on; the outage and the return are logged, and the backlog is read on return.
/// </summary>
public sealed class CueBusFollower : IDisposable
{
    private const int Batch = 256;
    private static readonly TimeSpan BeatEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan BeatTtl = TimeSpan.FromSeconds(15);

    private readonly CueBus _bus;
    private readonly LiveSession _session;
    private readonly AuditLog? _audit;
    private readonly TextWriter _log;
    private readonly TimeSpan _poll;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private Thread? _thread;
    private string? _position;
    private long _appliedSequence, _busSequence, _applied, _refused, _expired, _outages;
    // Cues this run added from the bus that have not closed yet: each is counted expired or not once it closes.
    private readonly List<string> _open = [];
    private BusLinkState _state = BusLinkState.Connecting;
    private string? _lastError;
    private IReadOnlyList<(string Name, string? Json)> _injectors = [];
    private DateTime _nextBeat;

    /// <summary>Creates the follower (not started).</summary>
    /// <param name="bus">The show's bus.</param>
    /// <param name="session">The injector whose book the orders go to.</param>
    /// <param name="audit">Where positions and outages are recorded (and where <paramref name="resumeAt"/> came from), or null.</param>
    /// <param name="log">The operator's log.</param>
    /// <param name="name">This injector's name on the bus (its heartbeat key).</param>
    /// <param name="resumeAt">The last position applied by an earlier run (from the audit log), or null to read from the start.</param>
    /// <param name="poll">How often the bus is asked for new orders (default 100 ms).</param>
    public CueBusFollower(CueBus bus, LiveSession session, AuditLog? audit, TextWriter log, string name, (string Entry, long Sequence)? resumeAt, TimeSpan? poll = null)
    {
        ArgumentNullException.ThrowIfNull(bus);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrEmpty(name);
        _bus = bus;
        _session = session;
        _audit = audit;
        _log = log;
        Name = name;
        _position = resumeAt?.Entry;
        _appliedSequence = resumeAt?.Sequence ?? 0;
        _poll = poll ?? TimeSpan.FromMilliseconds(100);
        Metrics = BusMetrics.Create(Status);
    }

    /// <summary>
    /// The bus's metrics (<c>catevening_bus_*</c>), in a registry of their own that the metrics endpoint exports next to
    /// the run's; set from <see cref="Status"/> at each scrape.
    /// </summary>
    public Prometheus.CollectorRegistry Metrics { get; }

    /// <summary>This injector's name on the bus.</summary>
    public string Name { get; }

    /// <summary>Starts reading the bus.</summary>
    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "cue bus " + _bus.Address };
        _thread.Start();
    }

    /// <summary>Reads and applies what the bus holds now, once (what the thread does each poll); for tests and start-up.</summary>
    /// <returns>True when the bus answered.</returns>
    public bool PollOnce()
    {
        try
        {
            while (true)
            {
                var orders = _bus.Read(_position, Batch);
                Connected();
                foreach (var order in orders) Apply(order);
                if (orders.Count > 0)
                {
                    lock (_gate)
                    {
                        _position = orders[^1].EntryId;
                        _appliedSequence = orders[^1].Sequence;
                    }
                    _audit?.BusPosition(orders[^1].EntryId, orders[^1].Sequence);
                }
                if (orders.Count < Batch) break;
            }
            var last = _bus.LastSequence();
            lock (_gate) _busSequence = last;
            if (DateTime.UtcNow >= _nextBeat)
            {
                _nextBeat = DateTime.UtcNow + BeatEvery;
                _bus.Beat(Name, BeatJson(), BeatTtl);
            }
            var injectors = _bus.Injectors();
            lock (_gate) _injectors = injectors;
            return true;
        }
        catch (CueBusUnavailableException e)
        {
            Unreachable(e.Message);
            return false;
        }
        catch (FormatException e)
        {
            // A foreign entry on the show's stream: say so once per poll and stay where we are.
            Unreachable("the bus holds an entry that is not an order: " + e.Message);
            return false;
        }
    }

    /// <summary>The bus as this injector sees it, for the status and metrics.</summary>
    public BusStatus Status()
    {
        lock (_gate)
        {
            SettleClosedCues();
            return new BusStatus(_bus.Address.ToString(), Name, _state, _position, _appliedSequence, _busSequence,
                Math.Max(0, _busSequence - _appliedSequence), _applied, _refused, _outages, _lastError, _injectors) { Expired = _expired };
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            PollOnce();
            _stop.Token.WaitHandle.WaitOne(_poll);
        }
    }

    private void Apply(BusOrder order)
    {
        var book = _session.Book;
        string? refusal = null;
        if (order.Kind == BusOrderKind.Fire)
        {
            if (!CueOrderJson.TryParse(order.Body, out var cue, out var error)) refusal = $"fire of '{order.CueId}' (bus seq {order.Sequence}) is not a valid order: {error}";
            else if (!LiveSession.TryToRequest(cue!, out var request, out error)) refusal = $"fire of '{order.CueId}' (bus seq {order.Sequence}): {error}";
            else
            {
                try
                {
                    book.Add(request!, order.Sequence);
                    lock (_gate) _open.Add(order.CueId);
                }
                catch (CueRejectedException e) when (e.Reason == CueRejection.DuplicateId && book.Find(order.CueId)?.Sequence == order.Sequence)
                {
                    // Applied by an earlier run whose position record did not reach the disk: already in the book.
                    return;
                }
                catch (CueRejectedException e)
                {
                    refusal = $"fire of '{order.CueId}' (bus seq {order.Sequence}) refused here: {e.Message}";
                }
            }
        }
        else
        {
            try
            {
                book.Cancel(order.CueId, order.Sequence);
            }
            catch (CueRejectedException e)
            {
                // Ended, expired or cancelled already on this injector (or restored so after a crash): nothing to send.
                refusal = $"cancel of '{order.CueId}' (bus seq {order.Sequence}) not applied here: {e.Message}";
            }
        }
        lock (_gate)
        {
            if (refusal is null) _applied++;
            else _refused++;
        }
        if (refusal is null) return;
        _audit?.BusState("refused", refusal);
        _log.WriteLine("sei-inject: cue bus: " + refusal);
    }

    // A cue from the bus that closed since the last look is counted once: expired when its window ended before any
    // frame could carry it (the order came too late for this injector, or its input was down all through the window).
    private void SettleClosedCues()
    {
        var book = _session.Book;
        _open.RemoveAll(id =>
        {
            if (book.Find(id) is not { } cue) return true;
            if (!cue.State.IsClosed()) return false;
            if (cue.State == CueState.Expired) _expired++;
            return true;
        });
    }

    private void Connected()
    {
        lock (_gate)
        {
            if (_state == BusLinkState.Connected) return;
            _state = BusLinkState.Connected;
            _lastError = null;
        }
        _audit?.BusState("connected", $"{_bus.Address} as '{Name}', reading after {_position ?? "the start"}");
        _log.WriteLine($"sei-inject: cue bus {_bus.Address} connected as '{Name}'");
    }

    private void Unreachable(string why)
    {
        lock (_gate)
        {
            _lastError = why;
            if (_state == BusLinkState.Unreachable) return;
            _state = BusLinkState.Unreachable;
            _outages++;
        }
        _audit?.BusState("unreachable", why);
        _log.WriteLine($"sei-inject: cue bus unreachable, the injector goes on with the cues it has: {why}");
    }

    private string BeatJson()
    {
        var status = _session.Status();
        var book = _session.Book.Options;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("injector", Name);
            w.WriteString("stream", book.StreamId);
            w.WriteString("member", book.PairMember switch { 0 => "main", 1 => "backup", _ => "alone" });
            w.WriteString("input", status.Input.ToWireName());
            w.WriteString("output", status.Output.ToWireName());
            if (status.LastPtsTime is { } t) w.WriteNumber("last_pts_time", t);
            else w.WriteNull("last_pts_time");
            w.WriteNumber("frames", status.Frames);
            lock (_gate)
            {
                w.WriteNumber("applied_seq", _appliedSequence);
                w.WriteNumber("lag", Math.Max(0, _busSequence - _appliedSequence));
            }
            w.WriteString("at", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>The link to the cue bus.</summary>
public enum BusLinkState
{
    /// <summary>Not reached yet.</summary>
    Connecting,

    /// <summary>The last call answered.</summary>
    Connected,

    /// <summary>The last call failed; the injector goes on and retries.</summary>
    Unreachable,
}

/// <summary>The cue bus as one injector sees it.</summary>
/// <param name="Url">The bus (<c>redis://HOST:PORT/SHOW</c>).</param>
/// <param name="Injector">This injector's name on it.</param>
/// <param name="State">The link.</param>
/// <param name="Position">The last stream entry applied, or null.</param>
/// <param name="AppliedSequence">Its bus number.</param>
/// <param name="BusSequence">The highest bus number given so far, as last read.</param>
/// <param name="Lag">Orders on the bus not applied here yet.</param>
/// <param name="Applied">Orders applied by this run.</param>
/// <param name="Refused">Orders this run could not apply (logged in the audit log with the reason).</param>
/// <param name="Outages">Times the bus became unreachable.</param>
/// <param name="LastError">Why it is unreachable, or null.</param>
/// <param name="Injectors">Every injector of the show with its last heartbeat JSON (null once expired).</param>
public sealed record BusStatus(string Url, string Injector, BusLinkState State, string? Position, long AppliedSequence, long BusSequence, long Lag,
    long Applied, long Refused, long Outages, string? LastError, IReadOnlyList<(string Name, string? Json)> Injectors)
{
    /// <summary>Cues this run applied from the bus that then expired here unsent (their window ended before any frame could carry them).</summary>
    public long Expired { get; init; }

    /// <summary>Writes the object <c>"bus"</c> of <c>GET /v1/status</c>.</summary>
    public void WriteTo(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject("bus");
        w.WriteString("url", Url);
        w.WriteString("injector", Injector);
        w.WriteString("state", State.ToString().ToLowerInvariant());
        if (Position is null) w.WriteNull("position");
        else w.WriteString("position", Position);
        w.WriteNumber("applied_seq", AppliedSequence);
        w.WriteNumber("bus_seq", BusSequence);
        w.WriteNumber("lag", Lag);
        w.WriteNumber("applied", Applied);
        w.WriteNumber("refused", Refused);
        w.WriteNumber("expired", Expired);
        w.WriteNumber("outages", Outages);
        if (LastError is null) w.WriteNull("last_error");
        else w.WriteString("last_error", LastError);
        w.WriteStartArray("injectors");
        foreach (var (name, json) in Injectors)
        {
            if (json is null)
            {
                w.WriteStartObject();
                w.WriteString("injector", name);
                w.WriteString("state", "gone");
                w.WriteEndObject();
                continue;
            }
            try
            {
                using var doc = JsonDocument.Parse(json);
                doc.RootElement.WriteTo(w);
            }
            catch (JsonException)
            {
                w.WriteStartObject();
                w.WriteString("injector", name);
                w.WriteString("state", "unreadable heartbeat");
                w.WriteEndObject();
            }
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
