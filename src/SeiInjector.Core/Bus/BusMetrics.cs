using Prometheus;

namespace CatEvening.SeiInjector.Bus;

/// <summary>
/// The cue bus in the injector's Prometheus metrics (<c>catevening_bus_*</c>), in a registry of its own so that a run
/// without a bus exports none of them. Every value is set from one <see cref="BusStatus"/> taken at each scrape, as
/// the run's other counters and gauges are; counters only move forward (IncTo), as the status's totals do.
/// </summary>
internal static class BusMetrics
{
    /// <summary>Creates the registry; <paramref name="status"/> is called once per scrape.</summary>
    public static CollectorRegistry Create(Func<BusStatus> status)
    {
        var registry = Metrics.NewCustomRegistry();
        var f = Metrics.WithCustomRegistry(registry);
        var connected = f.CreateGauge("catevening_bus_connected", "1 while the cue bus answers, 0 while it is unreachable (the injector goes on with the cues it has) or not reached yet.");
        var outages = f.CreateCounter("catevening_bus_outages_total", "Times the cue bus became unreachable, counted at the failure.");
        var applied = f.CreateCounter("catevening_bus_orders_applied_total", "Orders from the cue bus applied to this injector's cues (fires and cancels).");
        var refused = f.CreateCounter("catevening_bus_orders_refused_total", "Orders from the cue bus this injector could not apply (the audit log says why).");
        var expired = f.CreateCounter("catevening_bus_orders_expired_total", "Cues from the cue bus that expired here unsent: their window ended before any frame could carry them (the order came late, or the input was down).");
        var lag = f.CreateGauge("catevening_bus_lag_orders", "Orders on the cue bus not applied here yet, as last read.");
        var appliedSequence = f.CreateGauge("catevening_bus_applied_sequence", "Bus number of the last order applied here (alike on every injector of the show that has caught up).");
        var injectors = f.CreateGauge("catevening_bus_injectors", "Injectors of the show by heartbeat key: beating, or gone once the key expired.", "state");
        registry.AddBeforeCollectCallback(() =>
        {
            var s = status();
            connected.Set(s.State == BusLinkState.Connected ? 1 : 0);
            outages.IncTo(s.Outages);
            applied.IncTo(s.Applied);
            refused.IncTo(s.Refused);
            expired.IncTo(s.Expired);
            lag.Set(s.Lag);
            appliedSequence.Set(s.AppliedSequence);
            var gone = s.Injectors.Count(i => i.Json is null);
            injectors.WithLabels("beating").Set(s.Injectors.Count - gone);
            injectors.WithLabels("gone").Set(gone);
        });
        return registry;
    }
}
