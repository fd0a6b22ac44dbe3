using CatEvening.FFmpegInterop;

// live-floor run -i INPUT -o OUTPUT [--output-format FORMAT] [anything else, ignored]
// Reads every packet and writes it to a copy of each input stream, timestamps rescaled: what `ffmpeg -c copy` does
// and nothing of sei-inject's own (no timeline, cue book, SEI, heartbeat, counters, control API).
// `keygen ...` (live-setup.sh makes a key with the binary under test) does nothing: the floor signs nothing.
if (args.Length > 0 && args[0] == "keygen") return 0;
string? input = null, output = null, format = null;
for (var i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "-i") input = args[++i];
    else if (args[i] == "-o") output = args[++i];
    else if (args[i] == "--output-format") format = args[++i];
}
if (input is null || output is null)
{
    Console.Error.WriteLine("usage: live-floor run -i INPUT -o OUTPUT [--output-format FORMAT]");
    return 2;
}
var timeout = TimeSpan.FromSeconds(15);
using var source = MediaInput.Open(input, null, timeout);
using var sink = MediaOutput.Create(output, format, timeout);
var streams = source.Streams.Select(s => sink.AddCopyOf(s)).ToArray();
sink.WriteHeader();
var from = source.Streams.Select(s => s.TimeBase).ToArray();
var to = streams.Select(s => s.TimeBase).ToArray();
using var packet = new Packet();
Console.Error.WriteLine("live-floor: live input");
while (source.Read(packet) is var result && result != ReadResult.EndOfStream)
{
    if (result != ReadResult.Packet) continue;
    var index = packet.StreamIndex;
    if (index < streams.Length)
    {
        packet.RescaleTimestamps(from[index], to[index]);
        sink.TryWrite(packet, out _);
    }
    packet.Unref();
}
return 0;
