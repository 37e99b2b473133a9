/// The words the demo data is made of: people's names, company names, places, products.
enum DemoWords {
    static let firstNames = [
        "Anna", "Lars", "Ingrid", "Erik", "Sofia", "Mikkel", "Emma", "Jonas", "Laura", "Henrik", "Maria", "Thomas",
        "Julia", "Peter", "Sara", "Daniel", "Nora", "Andreas", "Clara", "Martin", "Eva", "Lukas", "Ida", "Felix",
        "Hanna", "Oliver", "Marta", "Jakob", "Lena", "Simon", "Elena", "David", "Sophie", "Marco", "Alice", "Paul",
        "Camille", "Hugo", "Isabel", "Noah", "Chloe", "Leon", "Olivia", "Samuel", "Grace", "Tobias", "Mia", "Viktor",
    ]
    static let lastNames = [
        "Hansen", "Johansson", "Müller", "Schmidt", "Nielsen", "Larsen", "Berg", "Dubois", "Rossi", "García", "Smith",
        "Jones", "Novak", "Kowalski", "Andersen", "Lindqvist", "Fischer", "Weber", "Martin", "Bernard", "Ferrari",
        "Moreno", "Taylor", "Brown", "Wilson", "Janssen", "De Vries", "Virtanen", "Nieminen", "Olsen", "Holm",
        "Bakker", "Keller", "Wagner", "Costa", "Silva", "Horvath", "Svoboda", "Eriksen", "Lund", "Dahl", "Strand",
    ]
    static let companyFirstWords = [
        "Nordic", "Alpine", "Blue Harbor", "Northwind", "Fabrikam", "Contoso", "Adatum", "Litware", "Proseware",
        "Tailspin", "Wide World", "Coho", "Fourth Coffee", "Lamna", "Trey", "Woodgrove", "Silver Birch", "Red Oak",
        "Granite", "Evergreen", "Baltic", "Atlas", "Summit", "Riverside", "Lakeside", "Polar", "Meridian", "Harbor",
        "Cobalt", "Amber", "Crown", "Pioneer", "Horizon", "Falcon", "Cedar", "Oakwood", "Westfield", "Eastgate",
    ]
    static let companyTrades = [
        "Furniture", "Trading", "Interiors", "Office Supplies", "Logistics", "Design", "Hospitality", "Construction",
        "Retail", "Hotels", "Consulting", "Engineering", "Outfitters", "Wholesale", "Events", "Workspace", "Schools",
        "Healthcare", "Studios", "Systems",
    ]
    static let companySuffixes = ["Ltd", "AS", "AB", "GmbH", "A/S", "Inc.", "B.V.", "S.A.", "Oy", "plc"]
    static let streets = [
        "Main Street", "Harbour Road", "Storgatan", "Hauptstraße", "Kongens Gade", "Rue de la Paix", "Via Roma",
        "Industrial Way", "Station Road", "Park Avenue", "Mill Lane", "Bridge Street", "Market Square", "Elm Road",
        "Nyhavn", "Karl Johans gate", "Drottninggatan", "Bahnhofstraße", "Church Lane", "King's Road",
    ]
    /// Cities with post codes, county, country/region code, phone prefix and web domain.
    static let places: [Place] = [
        Place(city: "Oslo", postCodes: ["0150", "0251", "0361"], county: "Oslo", country: "NO", phone: "+47", domain: "no"),
        Place(city: "Bergen", postCodes: ["5003", "5015", "5057"], county: "Vestland", country: "NO", phone: "+47", domain: "no"),
        Place(city: "Stockholm", postCodes: ["111 20", "113 46", "118 25"], county: "Stockholm", country: "SE", phone: "+46", domain: "se"),
        Place(city: "Gothenburg", postCodes: ["411 03", "413 19"], county: "Västra Götaland", country: "SE", phone: "+46", domain: "se"),
        Place(city: "Copenhagen", postCodes: ["1050", "1620", "2100"], county: "Hovedstaden", country: "DK", phone: "+45", domain: "dk"),
        Place(city: "Aarhus", postCodes: ["8000", "8200"], county: "Midtjylland", country: "DK", phone: "+45", domain: "dk"),
        Place(city: "Helsinki", postCodes: ["00100", "00180"], county: "Uusimaa", country: "FI", phone: "+358", domain: "fi"),
        Place(city: "Hamburg", postCodes: ["20095", "22767"], county: "Hamburg", country: "DE", phone: "+49", domain: "de"),
        Place(city: "Munich", postCodes: ["80331", "80802", "81667"], county: "Bavaria", country: "DE", phone: "+49", domain: "de"),
        Place(city: "Amsterdam", postCodes: ["1011 AB", "1017 CT"], county: "North Holland", country: "NL", phone: "+31", domain: "nl"),
        Place(city: "London", postCodes: ["EC1A 1BB", "SW1A 2AA", "N1 9GU"], county: "Greater London", country: "GB", phone: "+44", domain: "co.uk"),
        Place(city: "Manchester", postCodes: ["M1 1AE", "M4 5JD"], county: "Greater Manchester", country: "GB", phone: "+44", domain: "co.uk"),
        Place(city: "Paris", postCodes: ["75001", "75011", "75015"], county: "Île-de-France", country: "FR", phone: "+33", domain: "fr"),
        Place(city: "Milan", postCodes: ["20121", "20144"], county: "Lombardy", country: "IT", phone: "+39", domain: "it"),
        Place(city: "Chicago", postCodes: ["60601", "60614"], county: "Illinois", country: "US", phone: "+1", domain: "com"),
        Place(city: "Zurich", postCodes: ["8001", "8004"], county: "Zurich", country: "CH", phone: "+41", domain: "ch"),
    ]
    static let productMaterials = ["Oak", "Birch", "Steel", "Aluminium", "Walnut", "Glass", "Leather", "Fabric", "Bamboo", "Ash"]
    static let productKinds = [
        "Desk", "Office Chair", "Conference Table", "Bookcase", "Filing Cabinet", "Desk Lamp", "Whiteboard", "Sofa",
        "Coffee Table", "Bar Stool", "Storage Box", "Monitor Arm", "Coat Rack", "Side Table", "Reception Counter",
        "Shelf Unit", "Locker", "Footrest", "Room Divider", "Standing Desk",
    ]
    static let productVariants = ["Classic", "Compact", "Deluxe", "Pro", "Mini", "XL", "Eco", "Studio", "Executive", "Basic"]
    static let serviceNames = ["Assembly Service", "Delivery Fee", "Installation", "Extended Warranty", "Design Consultation"]
    static let jobTitles = [
        "Purchasing Manager", "Office Manager", "CEO", "CFO", "Facility Manager", "Buyer", "Project Manager",
        "Accountant", "Operations Director", "Interior Architect",
    ]
    static let opportunityTopics = [
        "Office fit-out", "Conference room refresh", "New headquarters", "Reception redesign", "Annual framework deal",
        "Ergonomics programme", "Showroom furniture", "Hotel lobby", "Classroom furniture", "Home-office kits",
    ]
}

/// A city with what goes with it in an address.
struct Place: Sendable {
    let city: String
    let postCodes: [String]
    let county: String
    let country: String
    let phone: String
    let domain: String
}
