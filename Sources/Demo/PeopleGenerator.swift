import Foundation

/// Realistic names, company names, addresses and web domains from `DemoWords`.
struct PeopleGenerator: Sendable {
    /// A company name such as "Nordic Interiors AS" or "Hansen & Berg Ltd".
    func companyName(_ random: inout SplitMix64) -> String {
        if random.chance(0.2) {
            return "\(random.pick(DemoWords.lastNames)) & \(random.pick(DemoWords.lastNames)) \(random.pick(DemoWords.companySuffixes))"
        }
        return "\(random.pick(DemoWords.companyFirstWords)) \(random.pick(DemoWords.companyTrades)) \(random.pick(DemoWords.companySuffixes))"
    }

    /// A first and last name.
    func personName(_ random: inout SplitMix64) -> (first: String, last: String) {
        (random.pick(DemoWords.firstNames), random.pick(DemoWords.lastNames))
    }

    /// "First Last".
    func fullName(_ random: inout SplitMix64) -> String {
        let (first, last) = personName(&random)
        return "\(first) \(last)"
    }

    /// A street address in one of the demo's cities.
    func address(_ random: inout SplitMix64) -> PostalAddress {
        let place = random.pick(DemoWords.places)
        return PostalAddress(
            street: "\(random.pick(DemoWords.streets)) \(random.int(1...180))", city: place.city,
            postCode: random.pick(place.postCodes), county: place.county, country: place.country,
            phonePrefix: place.phone, domain: place.domain)
    }

    /// The company's web domain: its name's first words as lowercase ASCII, under the country's domain.
    func domain(for name: String, address: PostalAddress) -> String {
        let words = name.split(separator: " ").prefix(2).map { Self.slug(String($0)) }.filter { !$0.isEmpty }
        return "\(words.joined(separator: "-")).example.\(address.domain)"
    }

    /// Lowercase ASCII letters and digits of `text`, accents folded ("Müller" → "muller").
    static func slug(_ text: String) -> String {
        let folded = text.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased()
        return String(folded.unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) }.map(Character.init))
    }
}
