using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CatEvening.Http;

/// <summary>Reads the certificate and private key an HTTPS server presents, from PEM files (as certbot or openssl write them).</summary>
public static class PemCertificate
{
    /// <summary>
    /// Loads <paramref name="certFile"/> (one or more <c>CERTIFICATE</c> blocks, the server's first) and
    /// <paramref name="keyFile"/> (an RSA or EC <c>PRIVATE KEY</c>, PKCS#1, SEC1 or unencrypted PKCS#8).
    /// </summary>
    /// <exception cref="ArgumentException">A file is missing or unreadable, holds no usable PEM block, or the key does not
    /// belong to the certificate; the message names the option (<c>--tls-cert</c> or <c>--tls-key</c>) and the file.</exception>
    public static X509Certificate2 Load(string certFile, string keyFile)
    {
        ArgumentNullException.ThrowIfNull(certFile);
        ArgumentNullException.ThrowIfNull(keyFile);
        foreach (var (option, file) in new[] { ("--tls-cert", certFile), ("--tls-key", keyFile) })
        {
            if (!File.Exists(file)) throw new ArgumentException($"{option} {file}: no such file");
        }
        try
        {
            return X509Certificate2.CreateFromPemFile(certFile, keyFile);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new ArgumentException($"--tls-cert {certFile} / --tls-key {keyFile}: not a PEM certificate and its own unencrypted private key ({e.Message})", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"--tls-cert {certFile} / --tls-key {keyFile}: cannot read ({e.Message})", e);
        }
    }
}
