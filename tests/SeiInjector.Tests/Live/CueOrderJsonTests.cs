using System.Text;
using CatEvening.SeiInjector.Live;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

public class CueOrderJsonTests
{
    private static (CueOrder? Order, string Error) Parse(string json)
    {
        var ok = CueOrderJson.TryParse(Encoding.UTF8.GetBytes(json), out var order, out var error);
        Assert.That(ok, Is.EqualTo(order is not null));
        return (order, error);
    }

    [Test]
    public void FullOrder_KeepsEveryField()
    {
        var (order, _) = Parse("""{"id":"red-1","kind":"custom","at":"1.5s","duration":"30s","spread":"500ms","data":{ "prize" : "coupon-50" }}""");
        Assert.Multiple(() =>
        {
            Assert.That(order!.Id, Is.EqualTo("red-1"));
            Assert.That(order.Kind, Is.EqualTo("custom"));
            Assert.That(order.At, Is.EqualTo(new CueTarget.StreamTime(TimeSpan.FromMilliseconds(1500))));
            Assert.That(order.AtText, Is.EqualTo("1.5s"));
            Assert.That(order.Duration, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(order.Spread, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
            Assert.That(Encoding.UTF8.GetString(order.AppData.Span), Is.EqualTo("""{"prize":"coupon-50"}"""), "data is kept as compact JSON");
        });
    }

    // A fresh tester: CJK text was sent as \uXXXX escapes and counted 6 bytes a character against the 1024; 1e999 was
    // accepted and readers got Infinity.
    [Test]
    public void Data_IsKeptAsUtf8Text_NotEscaped()
    {
        var (order, _) = Parse("""{"id":"cjk","data":{"prize":"优惠券 <50>","note":"a\"b\\c\u0001"}}""");
        Assert.That(Encoding.UTF8.GetString(order!.AppData.Span), Is.EqualTo("""{"prize":"优惠券 <50>","note":"a\"b\\c\u0001"}"""));
        Assert.That(order.AppData.Length, Is.EqualTo(Encoding.UTF8.GetByteCount("""{"prize":"优惠券 <50>","note":"a\"b\\c\u0001"}""")));
    }

    [TestCase("""{"id":"n","data":{"a":1e999}}""", "data.a")]
    [TestCase("""{"id":"n","data":{"a":[1,-2e400]}}""", "data.a[1]")]
    public void Data_WithANumberBeyondADouble_IsRefused_NamingIt(string json, string path)
    {
        var (order, error) = Parse(json);
        Assert.That(order, Is.Null);
        Assert.That(error, Does.Contain($"field 'data': {path} is a number beyond a double's range"));
    }

    [Test]
    public void Data_WithLargeButFiniteNumbers_IsKept()
    {
        var (order, _) = Parse("""{"id":"n","data":{"a":1.7e308,"b":123456789012345678901234567890}}""");
        Assert.That(Encoding.UTF8.GetString(order!.AppData.Span), Is.EqualTo("""{"a":1.7e308,"b":123456789012345678901234567890}"""));
    }

    [Test]
    public void MinimalOrder_FiresAnInteractionStartNow()
    {
        var (order, _) = Parse("""{"id":"x"}""");
        Assert.Multiple(() =>
        {
            Assert.That(order!.Kind, Is.EqualTo("interaction-start"));
            Assert.That(order.At, Is.EqualTo(new CueTarget.Now()));
            Assert.That(order.Duration, Is.EqualTo(TimeSpan.Zero));
            Assert.That(order.AppData.Length, Is.Zero);
        });
    }

    [Test]
    public void WallClockTarget_KeepsItsOffset()
    {
        var (order, _) = Parse("""{"id":"x","at":"2026-11-11T20:30:00+08:00"}""");
        Assert.That(order!.At, Is.EqualTo(new CueTarget.WallClock(new DateTimeOffset(2026, 11, 11, 12, 30, 0, TimeSpan.Zero))));
    }

    [TestCase("{\"id\":\"x\",", "malformed JSON at line 1, byte")]
    [TestCase("[1,2]", "must be a JSON object, not array")]
    [TestCase("{\"kind\":\"custom\"}", "field 'id' is required")]
    [TestCase("{\"id\":5}", "field 'id' must be a string, not number")]
    [TestCase("{\"id\":\"x\",\"colour\":\"red\"}", "unknown field 'colour'")]
    [TestCase("{\"id\":\"x\",\"duration\":\"30 seconds\"}", "field 'duration': '30 seconds' is not a duration")]
    [TestCase("{\"id\":\"x\",\"spread\":\"-2s\"}", "field 'spread': '-2s' is not a duration")]
    [TestCase("{\"id\":\"x\",\"at\":\"2026-11-11T20:30:00\"}", "field 'at': '2026-11-11T20:30:00' is neither a duration")]
    [TestCase("{\"id\":\"x\",\"at\":\"tomorrow\"}", "field 'at': 'tomorrow' is neither")]
    [TestCase("{\"id\":\"x\",\"data\":{\"k\":\"\\ud83d\"}}", "field 'data': data.k is not valid text")]
    [TestCase("{\"id\":\"x\",\"data\":{\"a\":[1,{\"b\":\"\\udc00\"}]}}", "field 'data': data.a[1].b is not valid text")]
    [TestCase("{\"id\":\"x\",\"data\":{\"\\ud800\":1}}", "field 'data': a field name in data is not valid text")]
    // Fresh tester (H13 kind): a duration too long to hold was called "not a duration".
    [TestCase("{\"id\":\"x\",\"at\":\"99999999999999h\"}", "field 'at': '99999999999999h' is too long a duration (at most 14,6")]
    [TestCase("{\"id\":\"x\",\"duration\":\"99999999999999h\"}", "field 'duration': '99999999999999h' is too long a duration")]
    // Fresh tester (H13 kind): a field given twice was taken with its last value (201, sent as the second kind).
    [TestCase("{\"id\":\"dupe1\",\"id\":\"dupe2\",\"kind\":\"custom\"}", "field 'id' is given twice")]
    [TestCase("{\"id\":\"x\",\"kind\":\"custom\",\"kind\":\"interaction-start\"}", "field 'kind' is given twice")]
    [TestCase("{\"id\":\"x\",\"at\":\"1s\",\"duration\":\"2s\",\"at\":\"5s\"}", "field 'at' is given twice")]
    [TestCase("{\"id\":\"x\",\"data\":{},\"data\":{\"k\":1}}", "field 'data' is given twice")]
    [TestCase("{\"id\":\"x\",\"data\":{\"q\":1,\"q\":2}}", "field 'data': data.q is given twice")]
    [TestCase("{\"id\":\"x\",\"data\":{\"a\":[{\"b\":1,\"b\":1}]}}", "field 'data': data.a[0].b is given twice")]
    public void BadOrder_IsRefusedNamingTheFault(string json, string expected)
    {
        var (_, error) = Parse(json);
        Assert.That(error, Does.Contain(expected));
    }

    // Raw invalid UTF-8 inside the app data (here a lone 0xC3 lead byte) is refused naming the field, not replaced by
    // U+FFFD and signed (field case H13, a variant on 'data').
    [Test]
    public void InvalidUtf8InData_IsRefusedNamingTheField()
    {
        byte[] body = [.. Encoding.UTF8.GetBytes("{\"id\":\"x\",\"data\":{\"x\":\""), 0xC3, .. Encoding.UTF8.GetBytes("\"}}")];
        Assert.That(CueOrderJson.TryParse(body, out var order, out var error), Is.False);
        Assert.Multiple(() =>
        {
            Assert.That(order, Is.Null);
            Assert.That(error, Does.Contain("field 'data': data.x is not valid text"));
        });
    }

    [Test]
    public void Write_ThenParse_RoundTrips()
    {
        var body = CueOrderJson.Write("id-1", "interaction-end", "2s", "10s", "1s", """{"a":[1,2]}""");
        Assert.That(CueOrderJson.TryParse(body, out var order, out _), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(order!.Kind, Is.EqualTo("interaction-end"));
            Assert.That(order.At, Is.EqualTo(new CueTarget.StreamTime(TimeSpan.FromSeconds(2))));
            Assert.That(Encoding.UTF8.GetString(order.AppData.Span), Is.EqualTo("""{"a":[1,2]}"""));
        });
    }
}
