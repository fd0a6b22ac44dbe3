using System.Text;
using StackExchange.Redis;

namespace CatEvening.SeiInjector.Bus;

/// <summary>
/// A show's cue bus on one Redis server: one stream of orders per show, read by every injector in order. The bus,
/// not an injector, numbers each cue (and each cancel message): a Lua script takes the next value of the show's
/// counter and appends the order in one atomic step, so every injector of the show carries the cue under the same
/// sequence number. Cue ids are unique in a show (a second fire of an id is refused at the bus). Thread-safe.
/// </summary>
/// <remarks>
/// The client never blocks the show: it connects in the background (<c>AbortOnConnectFail = false</c>), and every call
/// fails fast with <see cref="CueBusUnavailableException"/> while the server is away; callers retry.
/// </remarks>
public sealed class CueBus : IDisposable
{
    // KEYS: orders stream, counter, cue ids hash. ARGV: cue id, order JSON. Returns {seq, entry id}, or {-1} for a known id.
    private const string FireScript = """
        if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return {-1, ''} end
        local seq = redis.call('INCR', KEYS[2])
        redis.call('HSET', KEYS[3], ARGV[1], seq)
        local id = redis.call('XADD', KEYS[1], '*', 'op', 'fire', 'seq', seq, 'cue', ARGV[1], 'order', ARGV[2])
        return {seq, id}
        """;

    // KEYS: orders stream, counter, cue ids hash, cancelled set. ARGV: cue id. {-1} unknown id, {-2} already cancelled.
    private const string CancelScript = """
        if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then return {-1, ''} end
        if redis.call('SADD', KEYS[4], ARGV[1]) == 0 then return {-2, ''} end
        local seq = redis.call('INCR', KEYS[2])
        local id = redis.call('XADD', KEYS[1], '*', 'op', 'cancel', 'seq', seq, 'cue', ARGV[1])
        return {seq, id}
        """;

    private readonly ConnectionMultiplexer _redis;

    private CueBus(CueBusAddress address, ConnectionMultiplexer redis)
    {
        Address = address;
        _redis = redis;
    }

    /// <summary>Where the bus is.</summary>
    public CueBusAddress Address { get; }

    /// <summary>True while the client holds a connection to the server.</summary>
    public bool IsConnected => _redis.IsConnected;

    /// <summary>Creates the client; it connects in the background and reconnects by itself (every half second).</summary>
    public static CueBus Open(CueBusAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            ConnectTimeout = 2000,
            SyncTimeout = 2000,
            AsyncTimeout = 2000,
            ConnectRetry = 1,
            ReconnectRetryPolicy = new LinearRetry(500),
            // While the server is away a call fails at once instead of waiting in a backlog: the caller decides.
            BacklogPolicy = BacklogPolicy.FailFast,
            ClientName = "catevening",
        };
        options.EndPoints.Add(address.Host, address.Port);
        return new CueBus(address, ConnectionMultiplexer.Connect(options, TextWriter.Null));
    }

    /// <summary>Puts a fire order on the bus and returns the cue's bus number, or null when the show already has a cue with this id.</summary>
    /// <exception cref="CueBusUnavailableException">The server is not reachable.</exception>
    public (long Sequence, string EntryId)? PublishFire(string cueId, ReadOnlySpan<byte> orderJson)
    {
        var result = Evaluate(FireScript, [Address.OrdersKey, Address.SequenceKey, Address.CueIdsKey], [cueId, orderJson.ToArray()]);
        return result.Sequence < 0 ? null : result;
    }

    /// <summary>Puts a cancel order on the bus; returns its bus number, -1 for an id the show never had, -2 for one already cancelled.</summary>
    /// <exception cref="CueBusUnavailableException">The server is not reachable.</exception>
    public (long Sequence, string EntryId) PublishCancel(string cueId) =>
        Evaluate(CancelScript, [Address.OrdersKey, Address.SequenceKey, Address.CueIdsKey, Address.CancelledKey], [cueId]);

    /// <summary>Up to <paramref name="count"/> orders after <paramref name="after"/> (an entry id; null for the start), in order.</summary>
    /// <exception cref="CueBusUnavailableException">The server is not reachable.</exception>
    /// <exception cref="FormatException">An entry is not an order (names the entry and the field).</exception>
    public IReadOnlyList<BusOrder> Read(string? after, int count)
    {
        var entries = Call(db => db.StreamRead(Address.OrdersKey, after ?? "0-0", count));
        var orders = new List<BusOrder>(entries.Length);
        foreach (var e in entries)
        {
            var op = (string?)e["op"];
            var kind = op switch
            {
                "fire" => BusOrderKind.Fire,
                "cancel" => BusOrderKind.Cancel,
                _ => throw new FormatException($"bus entry {e.Id}: field 'op' is '{op}', not fire or cancel"),
            };
            if (!e["seq"].TryParse(out long seq) || seq < 0) throw new FormatException($"bus entry {e.Id}: field 'seq' is not a number ≥ 0");
            var cue = (string?)e["cue"] ?? throw new FormatException($"bus entry {e.Id}: field 'cue' is missing");
            var body = kind == BusOrderKind.Fire ? (byte[]?)e["order"] ?? throw new FormatException($"bus entry {e.Id}: field 'order' is missing") : [];
            orders.Add(new BusOrder(e.Id!, seq, kind, cue, body));
        }
        return orders;
    }

    /// <summary>The highest bus number given so far (0 before the first order).</summary>
    /// <exception cref="CueBusUnavailableException">The server is not reachable.</exception>
    public long LastSequence() => Call(db => db.StringGet(Address.SequenceKey).TryParse(out long n) ? n : 0);

    /// <summary>Writes an injector's heartbeat key (its state as JSON), expiring after <paramref name="ttl"/> unless written again.</summary>
    /// <exception cref="CueBusUnavailableException">The server is not reachable.</exception>
    public void Beat(string injector, string json, TimeSpan ttl) => Call(db =>
    {
        db.SetAdd(Address.InjectorsKey, injector);
        return db.StringSet(Address.InjectorKey(injector), json, ttl);
    });

    /// <summary>Every injector that ever beat on this show, with its last heartbeat JSON (null once its key expired).</summary>
    /// <exception cref="CueBusUnavailableException">The server is not reachable.</exception>
    public IReadOnlyList<(string Name, string? Json)> Injectors() => Call(db =>
    {
        var names = db.SetMembers(Address.InjectorsKey).Select(n => (string)n!).Order(StringComparer.Ordinal).ToArray();
        if (names.Length == 0) return [];
        var beats = db.StringGet(names.Select(n => (RedisKey)Address.InjectorKey(n)).ToArray());
        return names.Select((n, i) => (n, (string?)beats[i])).ToList();
    });

    /// <inheritdoc/>
    public void Dispose() => _redis.Dispose();

    private (long Sequence, string EntryId) Evaluate(string script, RedisKey[] keys, RedisValue[] values) => Call(db =>
    {
        var reply = (RedisResult[])db.ScriptEvaluate(script, keys, values)!;
        return ((long)reply[0], (string)reply[1]!);
    });

    private T Call<T>(Func<IDatabase, T> call)
    {
        try
        {
            return call(_redis.GetDatabase());
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new CueBusUnavailableException($"cue bus {Address}: {FirstLine(e.Message)}", e);
        }
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        var line = end < 0 ? message : message[..end];
        // StackExchange.Redis appends a long diagnostic list after the reason; the reason is enough for an operator.
        var cut = line.IndexOf(", mc:", StringComparison.Ordinal);
        return Encoding.UTF8.GetByteCount(line) > 300 && cut > 0 ? line[..cut] : line;
    }
}
