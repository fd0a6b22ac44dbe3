using System.CommandLine;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiInjector.Cli;

/// <summary><c>sei-inject keygen</c>: a new P-256 signing key pair.</summary>
internal static class KeygenCommand
{
    public static Command Create()
    {
        var privateKey = new Option<string>("--private") { Description = "Where to write the private key (PEM, created with mode 0600; never overwritten).", Required = true };
        var publicKey = new Option<string>("--public") { Description = "Where to write the public key (PEM) that client apps embed.", Required = true };
        var keyId = WholeNumberOption.Create("--key-id", 0, ushort.MaxValue, 1,
            "Key id (0-65535) written into every message, so clients can hold several keys during a rotation.");
        var command = new Command("keygen", "Create an ECDSA P-256 key pair: the private key signs (run --key), the public key verifies (inspect --public-key, client apps).")
        {
            privateKey, publicKey, keyId,
        };
        command.SetAction(parsed =>
        {
            var privatePath = parsed.GetValue(privateKey)!;
            var publicPath = parsed.GetValue(publicKey)!;
            if (File.Exists(publicPath))
                throw new CliException(ExitCodes.BadFile, $"--public {publicPath} already exists: remove it or choose another name (keys are never overwritten)");
            using var key = SigningKey.Generate((ushort)parsed.GetValue(keyId));
            KeyFiles.WritePrivate(privatePath, key.ExportPem());
            KeyFiles.WritePublic(publicPath, key.PublicKey.ExportPem());
            Console.Error.WriteLine($"sei-inject: key {key.KeyId}: private key {privatePath} (mode 0600), public key {publicPath}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
