#if NETSTANDARD2_0
using System.Collections.Generic;

namespace System
{
    /// <summary>
    /// The <c>HashCode.Combine</c> overloads this library uses (netstandard2.0 has no <c>System.HashCode</c>). Not
    /// randomised per process like .NET's: these hash codes only key in-process dictionaries.
    /// </summary>
    internal static class HashCode
    {
        private const int Seed = 17;
        private const int Factor = -1521134295;

        public static int Combine<T1, T2, T3, T4>(T1 a, T2 b, T3 c, T4 d) =>
            Mix(Mix(Mix(Mix(Seed, a), b), c), d);

        public static int Combine<T1, T2, T3, T4, T5>(T1 a, T2 b, T3 c, T4 d, T5 e) =>
            Mix(Combine(a, b, c, d), e);

        public static int Combine<T1, T2, T3, T4, T5, T6>(T1 a, T2 b, T3 c, T4 d, T5 e, T6 f) =>
            Mix(Combine(a, b, c, d, e), f);

        private static int Mix<T>(int hash, T value) =>
            unchecked((hash * Factor) + EqualityComparer<T>.Default.GetHashCode(value!));
    }
}
#endif
