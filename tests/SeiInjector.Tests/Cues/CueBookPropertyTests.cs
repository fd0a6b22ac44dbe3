using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Messages;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Cues;

/// <summary>
/// The book under random sequences of add, cancel (before a collect, between collect and commit/defer, after), close
/// cues, collect, commit and defer, with a seeded RNG. Checks what the wire (every plan given to Commit) and the journal
/// say against each other and against the rules: the journal records exactly what rode, an operator's cancel of a
/// delivered cue yields exactly one cancel message on the wire, a cue cancelled before delivery never rides, and once a
/// close naming a cue has ridden, that cue never rides again.
/// </summary>
public class CueBookPropertyTests
{
    private static readonly Rational Tb = new(1, 90_000);
    private const long FrameTicks = 3600;

    [TestCase(1, 20_000)]
    [TestCase(2, 20_000)]
    [TestCase(3, 20_000)]
    [TestCase(4, 20_000)]
    [TestCase(5, 20_000)]
    public void RandomOperations_WireAndJournalAgree_CancelsAreSentOnce_ClosedCuesNeverRideAgain(int seed, int steps)
    {
        var run = new Run(seed);
        for (var step = 0; step < steps; step++) run.Step();
        run.Drain(200);
        run.Check();
    }

    [Test]
    public void CancelBetweenCollectAndCommit_IsQueued_AndTheCancelMessageGoesOutOnTheNextFrame()
    {
        var journal = new CueBookTests.RecordingJournal();
        var book = new CueBook(new CueBookOptions { StreamId = "s", Repeat = 0, Heartbeat = HeartbeatPolicy.Off }, journal, new CueBookTests.ManualClock());
        book.Add(new CueRequest("quiz", MessageKind.InteractionStart, CueTime.Immediately, TimeSpan.FromSeconds(10), TimeSpan.Zero, ReadOnlyMemory<byte>.Empty));
        var first = book.Collect(Frame(0));
        Assert.That(book.Cancel("quiz").State, Is.EqualTo(CueState.CancelQueued));
        Assert.That(() => book.Cancel("quiz"), Throws.TypeOf<CueRejectedException>().With.Property("Reason").EqualTo(CueRejection.AlreadyEnded));
        book.Commit(first, [1]);
        var next = book.Collect(Frame(1));
        book.Commit(next, [2]);
        var cancel = (CueMessage)next.Messages.Single();
        Assert.Multiple(() =>
        {
            Assert.That(((CueMessage)first.Messages.Single()).CueId, Is.EqualTo("quiz"));
            Assert.That((cancel.Kind, cancel.CueId), Is.EqualTo((MessageKind.Cancel, "quiz")));
            Assert.That(journal.Cues.Select(e => e.Event), Is.EqualTo(new[]
            {
                CueEvent.Accepted, CueEvent.Delivered, CueEvent.Cancelled, CueEvent.CancelMessageDelivered,
            }));
            Assert.That(journal.Cues[2].CloseSequence, Is.EqualTo(cancel.SequenceNumber));
            Assert.That(book.Find("quiz")!.State, Is.EqualTo(CueState.Cancelled));
        });
    }

    [Test]
    public void CancelBetweenCollectAndDefer_DropsTheCue_AndNothingIsSent()
    {
        var journal = new CueBookTests.RecordingJournal();
        var book = new CueBook(new CueBookOptions { StreamId = "s", Repeat = 0, Heartbeat = HeartbeatPolicy.Off }, journal, new CueBookTests.ManualClock());
        book.Add(new CueRequest("quiz", MessageKind.InteractionStart, CueTime.Immediately, TimeSpan.FromSeconds(10), TimeSpan.Zero, ReadOnlyMemory<byte>.Empty));
        var first = book.Collect(Frame(0));
        book.Cancel("quiz");
        book.Defer(first);
        var later = Enumerable.Range(1, 50).Select(i => book.Collect(Frame(i))).Where(p => !p.IsEmpty).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(later, Is.Empty);
            Assert.That(journal.Cues.Select(e => e.Event), Is.EqualTo(new[] { CueEvent.Accepted, CueEvent.Cancelled }));
            Assert.That(book.Snapshot() is { Cancelled: 1, Delivered: 0, Pending: 0 });
        });
    }

    [Test]
    public void APlan_IsCommittedOrDeferredOnce()
    {
        var book = new CueBook(new CueBookOptions { StreamId = "s", Heartbeat = HeartbeatPolicy.OnEveryFrame }, null, new CueBookTests.ManualClock());
        var plan = book.Collect(Frame(0));
        book.Commit(plan, [1]);
        Assert.Multiple(() =>
        {
            Assert.That(() => book.Commit(plan, [1]), Throws.InvalidOperationException);
            Assert.That(() => book.Defer(plan), Throws.InvalidOperationException);
        });
    }

    [Test]
    public void TheLifeTable_HasNoWayBackFromAClosedState()
    {
        foreach (var closed in new[] { CueState.Ended, CueState.Cancelled, CueState.Expired })
        {
            foreach (var trigger in Enum.GetValues<CueTrigger>())
                Assert.That(CueLife.TryNext(closed, trigger, out _), Is.False, $"{closed} + {trigger}");
        }
    }

    private static VideoFrame Frame(long index) => new(index * FrameTicks, index * FrameTicks, index % 25 == 0, index, Tb);

    private sealed class Run
    {
        private readonly Random _rng;
        private readonly CueBookTests.ManualClock _clock = new();
        private readonly CueBookTests.RecordingJournal _journal = new();
        private readonly CueBook _book;
        private readonly List<string> _ids = [];
        private readonly Dictionary<long, string> _idOfSequence = [];
        private readonly HashSet<long> _cueSequences = [];
        private readonly Dictionary<string, int> _operatorCancels = [];
        // Every committed plan, in order: (frame index, messages).
        private readonly List<(long Frame, IReadOnlyList<CatEveningMessage> Messages)> _wire = [];
        private readonly HashSet<long> _seenOnWire = [];
        private long _frame;
        private int _nextId;
        private int _deferred;

        public Run(int seed)
        {
            _rng = new Random(seed);
            _book = new CueBook(new CueBookOptions
            {
                StreamId = "prop",
                Repeat = 2,
                CloseHold = TimeSpan.FromSeconds(2),
                Heartbeat = HeartbeatPolicy.Every(TimeSpan.FromSeconds(1)),
            }, _journal, _clock);
        }

        public void Step()
        {
            var roll = _rng.Next(100);
            if (roll < 12) Add();
            else if (roll < 20) TryCancel(RandomId());
            else Frame(allowDefer: true);
        }

        public void Drain(int frames)
        {
            for (var i = 0; i < frames; i++) Frame(allowDefer: false);
        }

        private void Add()
        {
            var id = $"c{_nextId++}";
            var now = _frame * 0.04;
            var at = CueTime.FromFirstFrame(TimeSpan.FromSeconds(Math.Max(0, now + (_rng.NextDouble() * 1.5) - 0.3)));
            CueRequest request;
            if (_ids.Count > 0 && _rng.Next(4) == 0)
            {
                var kind = _rng.Next(2) == 0 ? MessageKind.InteractionEnd : MessageKind.Cancel;
                request = new CueRequest(id, kind, _rng.Next(3) == 0 ? CueTime.Immediately : at, TimeSpan.Zero, TimeSpan.Zero, ReadOnlyMemory<byte>.Empty, RandomId());
            }
            else
            {
                var kind = _rng.Next(3) == 0 ? MessageKind.Custom : MessageKind.InteractionStart;
                var duration = TimeSpan.FromMilliseconds(_rng.Next(4) == 0 ? 0 : _rng.Next(100, 3000));
                request = new CueRequest(id, kind, _rng.Next(5) == 0 ? CueTime.Immediately : at, duration, TimeSpan.Zero, ReadOnlyMemory<byte>.Empty);
            }
            var added = _book.Add(request);
            _ids.Add(id);
            _idOfSequence[added.Sequence] = id;
            _cueSequences.Add(added.Sequence);
        }

        private string RandomId() => _ids.Count == 0 ? "none" : _ids[_rng.Next(Math.Max(0, _ids.Count - 30), _ids.Count)];

        private void TryCancel(string id)
        {
            try
            {
                _book.Cancel(id);
                _operatorCancels[id] = _operatorCancels.GetValueOrDefault(id) + 1;
            }
            catch (CueRejectedException)
            {
            }
        }

        private void Frame(bool allowDefer)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(40));
            var frame = new VideoFrame(_frame * FrameTicks, _frame * FrameTicks, _frame % 25 == 0, _frame, Tb);
            _frame++;
            var plan = _book.Collect(frame);
            // Cancel at every point: one of the cues on this very plan, or any recent cue, while the packet is in flight.
            if (allowDefer && _rng.Next(4) == 0)
            {
                var onPlan = plan.Messages.OfType<CueMessage>().Select(m => _idOfSequence.GetValueOrDefault(m.SequenceNumber)).Where(i => i != null).ToList();
                TryCancel(onPlan.Count > 0 && _rng.Next(2) == 0 ? onPlan[_rng.Next(onPlan.Count)]! : RandomId());
            }
            if (plan.IsEmpty) return;
            var before = _journal.Cues.Count;
            if (allowDefer && _rng.Next(6) == 0)
            {
                _book.Defer(plan);
                _deferred++;
                var afterDefer = _journal.Cues.Skip(before).Where(e => e.Carrier != null).ToList();
                Assert.That(afterDefer, Is.Empty, $"frame {frame.FrameIndex}: a deferred plan journals no delivery");
                return;
            }
            _book.Commit(plan, [(byte)frame.FrameIndex]);
            _wire.Add((frame.FrameIndex, plan.Messages));
            // The journal's deliveries of this commit are exactly the plan's cue messages, first ones as Delivered.
            var journalled = _journal.Cues.Skip(before).Where(e => e.Carrier != null)
                .Select(e => (Seq: e.Event is CueEvent.CancelMessageDelivered or CueEvent.CancelMessageRepeated ? e.CloseSequence!.Value : e.Cue.Sequence,
                    First: e.Event is CueEvent.Delivered or CueEvent.CancelMessageDelivered, Frame: e.Carrier!.FrameIndex))
                .OrderBy(x => x.Seq).ToList();
            var onWire = plan.Messages.OfType<CueMessage>()
                .Select(m => (Seq: m.SequenceNumber, First: !_seenOnWire.Contains(m.SequenceNumber), Frame: frame.FrameIndex))
                .OrderBy(x => x.Seq).ToList();
            Assert.That(journalled, Is.EqualTo(onWire), $"frame {frame.FrameIndex}: journal and wire");
            foreach (var m in plan.Messages) _seenOnWire.Add(m.SequenceNumber);
        }

        public void Check()
        {
            var cues = _book.Cues().ToDictionary(c => c.Id);
            var s = _book.Snapshot();
            // Wire: the frame of the first close naming each id, and every frame carrying each cue's own message.
            var firstClose = new Dictionary<string, long>();
            var rides = new Dictionary<long, List<long>>();
            foreach (var (frame, messages) in _wire)
            {
                foreach (var m in messages.OfType<CueMessage>())
                {
                    if (_cueSequences.Contains(m.SequenceNumber)) (rides.TryGetValue(m.SequenceNumber, out var l) ? l : rides[m.SequenceNumber] = []).Add(frame);
                    var isClose = m.Kind is MessageKind.Cancel or MessageKind.InteractionEnd;
                    var ownIdOfSender = _idOfSequence.GetValueOrDefault(m.SequenceNumber);
                    if (isClose && ownIdOfSender != m.CueId) firstClose.TryAdd(m.CueId, frame);
                }
            }
            var operatorCancelMessages = _wire.SelectMany(w => w.Messages).OfType<CueMessage>()
                .Where(m => m.Kind == MessageKind.Cancel && !_cueSequences.Contains(m.SequenceNumber))
                .GroupBy(m => m.CueId).ToDictionary(g => g.Key, g => g.Select(m => m.SequenceNumber).Distinct().ToList());
            var operatorCancelled = 0;
            var journalOf = _journal.Cues.ToLookup(e => e.Cue.Id);
            Assert.Multiple(() =>
            {
                Assert.That(_wire, Has.Count.GreaterThan(1000), "the run exercised the carousel");
                Assert.That(_deferred, Is.GreaterThan(100), "the run exercised Defer");
                foreach (var cue in cues.Values)
                {
                    var seq = cue.Sequence;
                    var ridden = rides.GetValueOrDefault(seq) ?? [];
                    if (firstClose.TryGetValue(cue.Id, out var closedAt))
                        Assert.That(ridden.Where(f => f >= closedAt), Is.Empty, $"{cue.Id} rode after its close went out on frame {closedAt}");
                    var entries = journalOf[cue.Id].ToList();
                    var terminal = entries.Where(e => e.Event is CueEvent.Ended or CueEvent.Cancelled or CueEvent.Expired).ToList();
                    Assert.That(terminal, Has.Count.LessThanOrEqualTo(1), $"{cue.Id}: one end of life");
                    if (cue.State.IsClosed()) Assert.That(terminal.Select(e => e.Cue.State), Is.EqualTo(new[] { cue.State }), $"{cue.Id}: journal and state");
                    Assert.That(ridden.Count, Is.EqualTo(cue.Transmissions), $"{cue.Id}: transmissions");
                    var cancelsOnWire = operatorCancelMessages.GetValueOrDefault(cue.Id) ?? [];
                    if (_operatorCancels.ContainsKey(cue.Id))
                    {
                        operatorCancelled++;
                        Assert.That(terminal.Select(e => (e.Event, e.ClosedBy)), Is.EqualTo(new[] { (CueEvent.Cancelled, (string?)null) }), $"{cue.Id}: the operator's cancel is its end");
                        if (ridden.Count > 0)
                            Assert.That(cancelsOnWire, Is.EqualTo(new[] { terminal[0].CloseSequence!.Value }), $"{cue.Id}: delivered and cancelled: exactly one cancel message");
                        else
                            Assert.That(cancelsOnWire, Is.Empty, $"{cue.Id}: cancelled before delivery: no cancel message");
                    }
                    else
                    {
                        Assert.That(cancelsOnWire, Is.Empty, $"{cue.Id}: no operator cancel, no cancel message");
                    }
                }
                Assert.That(_operatorCancels.Values, Has.All.EqualTo(1), "a second cancel of the same cue is refused");
                Assert.That(operatorCancelled, Is.GreaterThan(50), "the run exercised operator cancels");
                Assert.That((s.Pending, s.Active, s.Ended, s.Cancelled, s.Expired, s.Delivered), Is.EqualTo((
                    cues.Values.Count(c => c.State is CueState.Pending or CueState.InFlight or CueState.CancelQueued),
                    cues.Values.Count(c => c.State == CueState.Active), cues.Values.Count(c => c.State == CueState.Ended),
                    cues.Values.Count(c => c.State == CueState.Cancelled), cues.Values.Count(c => c.State == CueState.Expired),
                    cues.Values.Count(c => c.Transmissions > 0))), "the tally agrees with the cues");
            });
        }
    }
}
