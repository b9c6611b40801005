//! The name tables: first and last names per culture, weighted for a North-American
//! ESP with a large Québec and European audience. About a fifth of drawn names are
//! outside ASCII; non-Latin names carry the romanization people use in addresses.

/// A culture's names. Non-Latin tables carry the romanization people use in addresses.
pub(crate) enum Names {
    Latin {
        first: &'static [&'static str],
        last: &'static [&'static str],
    },
    Romanized {
        first: &'static [(&'static str, &'static str)],
        last: &'static [(&'static str, &'static str)],
    },
}

pub(crate) struct Culture {
    /// Share of contacts, per mille.
    pub weight: u32,
    pub names: Names,
    /// BCP 47 tag; also decides mailbox domains and home IP ranges (`mailboxes::region_of_locale`).
    pub locale: &'static str,
}

#[rustfmt::skip]
const EN_FIRST: &[&str] = &[
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Christopher", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark",
    "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Joshua", "Amanda", "Kevin", "Melissa",
    "Brian", "Stephanie", "Ryan", "Rebecca", "Jacob", "Laura", "Nicholas", "Emma", "Tyler",
    "Olivia", "Brandon", "Hannah", "Justin", "Megan", "Ethan", "Rachel", "Noah", "Lauren", "Liam",
    "Chloe", "Owen", "Grace", "Logan", "Sophie", "Connor", "Abigail", "Dylan", "Madison", "Nathan",
    "Victoria", "Aaron", "Natalie", "Caleb", "Samantha", "Luke", "Kayla", "Evan", "Alyssa",
    "Gavin", "Brooke", "Wyatt", "Jasmine", "Hunter", "Kaitlyn", "Colin", "Heather", "Sean", "Erin",
    "Kyle", "Danielle", "Derek", "Kimberly", "Greg", "Tiffany", "Scott", "Courtney", "Jeffrey",
    "Amber", "Gary", "Brittany", "Dennis", "Crystal", "Keith", "Julia", "Zoë", "Renée", "Chloé",
    "Noël",
];
#[rustfmt::skip]
const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill", "Green",
    "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips", "Campbell",
    "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook", "Rogers",
    "Morgan", "Cooper", "Peterson", "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward", "Cox",
    "Richardson", "Wood", "Watson", "Brooks", "Bennett", "Gray", "Hughes", "Price", "Sanders",
    "Myers", "Long", "Ross", "Foster", "Powell", "Jenkins", "Perry", "Russell", "Sullivan",
    "Fisher", "Hamilton", "Graham", "Wallace", "Murray", "Ford", "MacDonald", "McKenzie",
    "O'Brien", "O'Connor", "Fraser", "Henderson", "Patel", "Singh", "Nguyen", "Chen", "Campbell",
    "Stevenson", "Burke", "Doyle", "Gallagher", "Hayes",
];
#[rustfmt::skip]
const FR_FIRST: &[&str] = &[
    "François", "Hélène", "Élodie", "Jérôme", "Stéphane", "Mélanie", "Frédéric", "Sébastien",
    "Geneviève", "Zoé", "Gaëlle", "Noémie", "Léa", "Chloé", "Océane", "Maëlle", "Benoît", "Amélie",
    "Valérie", "Josée", "Marie-Ève", "Jean-François", "Pierre-Luc", "Anaïs", "Loïc", "Mathieu",
    "Julie", "Nathalie", "Isabelle", "Sophie", "Marc", "Luc", "Martin", "Simon", "Catherine",
    "Caroline", "Marie", "Camille", "Émilie", "Alexandre", "Nicolas", "Olivier", "Philippe",
    "Julien", "Guillaume", "Maxime", "Vincent", "Louis", "Antoine", "Thomas", "Gabriel",
    "Charlotte", "Manon", "Laurence", "Audrey", "Annie", "Sylvie", "Chantal", "Patrick", "Yves",
    "Denis", "Claude", "Éric", "René", "Raphaël", "Félix", "Étienne",
];
#[rustfmt::skip]
const FR_LAST: &[&str] = &[
    "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin",
    "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron", "Leblanc", "Paquette",
    "Girard", "Simard", "Boucher", "Caron", "Beaulieu", "Cloutier", "Dubé", "Poirier", "Fournier",
    "Lapointe", "Leclerc", "Lefebvre", "Lefèvre", "Bérubé", "Thériault", "Hébert", "Mercier",
    "Martin", "Bernard", "Dubois", "Durand", "Laurent", "Moreau", "Michel", "Garnier", "Rousseau",
    "Vincent", "Faure", "Chevalier", "Lemaire", "Brisebois", "Séguin", "Deschênes", "Bédard",
    "Després",
];
#[rustfmt::skip]
const ES_FIRST: &[&str] = &[
    "José", "María", "Sofía", "Lucía", "Martín", "Andrés", "Jesús", "Óscar", "Iñaki", "Ramón",
    "Inés", "Mónica", "Raúl", "Julián", "Verónica", "Juan", "Carlos", "Luis", "Javier", "Diego",
    "Pablo", "Miguel", "Alejandro", "Daniela", "Valentina", "Camila", "Carmen", "Ana", "Laura",
    "Elena", "Paula", "Isabel", "Fernando", "Jorge", "Ricardo", "Gabriela", "Adriana",
];
#[rustfmt::skip]
const ES_LAST: &[&str] = &[
    "García", "Rodríguez", "Martínez", "López", "González", "Hernández", "Pérez", "Sánchez",
    "Ramírez", "Núñez", "Gómez", "Díaz", "Fernández", "Jiménez", "Muñoz", "Álvarez", "Romero",
    "Torres", "Flores", "Rivera", "Morales", "Ortiz", "Castillo", "Vargas", "Ruiz", "Navarro",
    "Herrera", "Medina", "Castro", "Ortega", "Silva", "Mendoza", "Reyes", "Cruz", "Delgado",
];
#[rustfmt::skip]
const PT_FIRST: &[&str] = &[
    "João", "Antônio", "Conceição", "Sebastião", "Luís", "Fábio", "Márcio", "Vitória", "Letícia",
    "Lucas", "Gabriel", "Rafael", "Bruno", "Pedro", "Mariana", "Juliana", "Fernanda", "Beatriz",
    "Larissa", "Thiago", "Felipe", "Ana", "Carla", "Paulo", "Rodrigo",
];
#[rustfmt::skip]
const PT_LAST: &[&str] = &[
    "Silva", "Santos", "Oliveira", "Souza", "Pereira", "Gonçalves", "Araújo", "Magalhães",
    "Conceição", "Simões", "Lima", "Ferreira", "Costa", "Rodrigues", "Almeida", "Carvalho",
    "Ribeiro", "Barbosa", "Rocha", "Monteiro", "Moreira", "Cardoso", "Teixeira", "Mendes",
];
#[rustfmt::skip]
const DE_FIRST: &[&str] = &[
    "Jürgen", "Jörg", "Günter", "Björn", "Sören", "Käthe", "Anja", "Lukas", "Jonas", "Leon",
    "Felix", "Maximilian", "Paul", "Finn", "Hannah", "Lena", "Laura", "Julia", "Katharina",
    "Stefan", "Andreas", "Markus", "Tobias", "Sabine", "Petra", "Ursula", "Wolfgang", "Klaus",
    "Dieter", "Heike", "Anke", "Sven", "Jan", "Tim", "Nina", "Miriam", "Johanna", "Matthias",
];
#[rustfmt::skip]
const DE_LAST: &[&str] = &[
    "Müller", "Schäfer", "Schröder", "Köhler", "Krüger", "Günther", "Böhm", "Weiß", "Groß",
    "Fuchs", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Lehmann", "Huber",
];
#[rustfmt::skip]
const NORDIC_FIRST: &[&str] = &[
    "Søren", "Bjørn", "Jørgen", "Åsa", "Märta", "Öystein", "Sigrún", "Ásgeir", "Lars", "Anders",
    "Erik", "Nils", "Ingrid", "Astrid", "Freja", "Mads", "Henrik", "Sofie", "Ida", "Karin",
];
#[rustfmt::skip]
const NORDIC_LAST: &[&str] = &[
    "Jørgensen", "Sørensen", "Pedersen", "Hansen", "Nielsen", "Larsen", "Andersson", "Johansson",
    "Karlsson", "Nilsson", "Berg", "Lindqvist", "Öberg", "Åberg", "Ström", "Håkansson",
    "Mikkelsen", "Olsen", "Lund", "Dahl",
];
#[rustfmt::skip]
const CE_FIRST: &[&str] = &[
    "Łukasz", "Paweł", "Michał", "Wojciech", "Małgorzata", "Agnieszka", "Katarzyna", "Piotr",
    "Tomasz", "Anna", "Magdalena", "Jiří", "Tomáš", "Petra", "Lucie", "Zoltán", "Ágnes",
];
#[rustfmt::skip]
const CE_LAST: &[&str] = &[
    "Wójcik", "Kowalczyk", "Dąbrowski", "Wiśniewski", "Zieliński", "Kowalski", "Nowak",
    "Lewandowski", "Kamiński", "Szymański", "Dvořák", "Novák", "Svoboda", "Černý", "Nagy",
    "Kovács", "Tóth",
];
#[rustfmt::skip]
const IT_FIRST: &[&str] = &[
    "Giuseppe", "Giovanni", "Francesca", "Alessandro", "Lorenzo", "Matteo", "Giulia", "Chiara",
    "Federica", "Marco", "Luca", "Andrea", "Stefano", "Paola", "Elisa", "Davide", "Simone",
    "Valentina", "Roberto", "Silvia", "Niccolò",
];
#[rustfmt::skip]
const IT_LAST: &[&str] = &[
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
    "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo",
    "Lombardi", "Moretti", "Barbieri", "Fontana", "Caruso", "Mariani",
];
#[rustfmt::skip]
const NL_FIRST: &[&str] = &[
    "Daan", "Sem", "Lieke", "Anouk", "Bram", "Thijs", "Sanne", "Femke", "Jeroen", "Maarten", "Eva",
    "Ruben", "Joost", "Marieke", "Pieter", "Floor",
];
#[rustfmt::skip]
const NL_LAST: &[&str] = &[
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
    "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
];
#[rustfmt::skip]
const IN_FIRST: &[&str] = &[
    "Priya", "Rahul", "Ananya", "Arjun", "Aditya", "Sneha", "Vikram", "Kavya", "Rohan", "Neha",
    "Amit", "Pooja", "Sanjay", "Deepika", "Karthik", "Meera", "Harpreet", "Gurpreet", "Ishaan",
];
#[rustfmt::skip]
const IN_LAST: &[&str] = &[
    "Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Mehta", "Joshi",
    "Shah", "Rao", "Chopra", "Malhotra", "Verma", "Bhatt", "Kapoor", "Sandhu", "Gill",
];
#[rustfmt::skip]
const SEA_FIRST: &[&str] = &[
    "Minh", "Linh", "Thanh", "Huong", "Anh", "Tuan", "Mai", "Jose Miguel", "Maricel", "Jasmine",
    "Rizal", "Siti", "Nurul", "Wei Ling", "Jun Wei",
];
#[rustfmt::skip]
const SEA_LAST: &[&str] = &[
    "Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Santos", "Reyes", "Dela Cruz", "Bautista",
    "Tan", "Lim", "Ong", "Rahman", "Abdullah",
];
#[rustfmt::skip]
const JA_FIRST: &[(&str, &str)] = &[
    ("陽菜", "hina"), ("結衣", "yui"), ("さくら", "sakura"), ("美咲", "misaki"), ("葵", "aoi"),
    ("大翔", "hiroto"), ("蓮", "ren"), ("悠真", "yuma"), ("健太", "kenta"), ("翔太", "shota"),
    ("由美", "yumi"), ("拓也", "takuya"), ("直樹", "naoki"), ("恵子", "keiko"),
];
#[rustfmt::skip]
const JA_LAST: &[(&str, &str)] = &[
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"), ("伊藤", "ito"),
    ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"), ("小林", "kobayashi"),
    ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"),
];
#[rustfmt::skip]
const ZH_FIRST: &[(&str, &str)] = &[
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("磊", "lei"),
    ("强", "qiang"), ("洋", "yang"), ("艳", "yan"), ("杰", "jie"), ("婷", "ting"), ("浩然", "haoran"),
    ("子涵", "zihan"), ("欣怡", "xinyi"), ("俊杰", "junjie"),
];
#[rustfmt::skip]
const ZH_LAST: &[(&str, &str)] = &[
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
];
#[rustfmt::skip]
const RU_FIRST: &[(&str, &str)] = &[
    ("Дмитрий", "dmitry"), ("Алексей", "alexey"), ("Сергей", "sergey"), ("Анна", "anna"),
    ("Мария", "maria"), ("Елена", "elena"), ("Ольга", "olga"), ("Иван", "ivan"),
    ("Наталья", "natalia"), ("Андрей", "andrey"), ("Татьяна", "tatiana"), ("Михаил", "mikhail"),
];
#[rustfmt::skip]
const RU_LAST: &[(&str, &str)] = &[
    ("Иванов", "ivanov"), ("Смирнов", "smirnov"), ("Кузнецов", "kuznetsov"), ("Попов", "popov"),
    ("Соколов", "sokolov"), ("Лебедев", "lebedev"), ("Козлов", "kozlov"), ("Новиков", "novikov"),
    ("Морозов", "morozov"), ("Волков", "volkov"),
];
#[rustfmt::skip]
const KO_FIRST: &[(&str, &str)] = &[
    ("민준", "minjun"), ("서연", "seoyeon"), ("지훈", "jihoon"), ("지민", "jimin"), ("하은", "haeun"),
    ("현우", "hyunwoo"), ("수빈", "subin"), ("예린", "yerin"),
];
#[rustfmt::skip]
const KO_LAST: &[(&str, &str)] = &[
    ("김", "kim"), ("이", "lee"), ("박", "park"), ("최", "choi"), ("정", "jung"), ("강", "kang"),
    ("조", "cho"), ("윤", "yoon"),
];
#[rustfmt::skip]
const EL_FIRST: &[(&str, &str)] = &[
    ("Γιώργος", "giorgos"), ("Μαρία", "maria"), ("Νίκος", "nikos"), ("Ελένη", "eleni"),
    ("Κατερίνα", "katerina"), ("Δημήτρης", "dimitris"),
];
#[rustfmt::skip]
const EL_LAST: &[(&str, &str)] = &[
    ("Παπαδόπουλος", "papadopoulos"), ("Παπαδάκης", "papadakis"), ("Γεωργίου", "georgiou"),
    ("Οικονόμου", "oikonomou"), ("Νικολάου", "nikolaou"),
];

const fn latin(
    w: u32,
    first: &'static [&'static str],
    last: &'static [&'static str],
    locale: &'static str,
) -> Culture {
    Culture {
        weight: w,
        names: Names::Latin { first, last },
        locale,
    }
}

const fn roman(
    w: u32,
    first: &'static [(&'static str, &'static str)],
    last: &'static [(&'static str, &'static str)],
    locale: &'static str,
) -> Culture {
    Culture {
        weight: w,
        names: Names::Romanized { first, last },
        locale,
    }
}

/// Weighted for a North-American ESP with a large Québec and European audience.
pub(crate) static CULTURES: &[Culture] = &[
    latin(360, EN_FIRST, EN_LAST, "en-US"),
    latin(140, EN_FIRST, EN_LAST, "en-CA"),
    latin(50, EN_FIRST, EN_LAST, "en-GB"),
    latin(75, FR_FIRST, FR_LAST, "fr-CA"),
    latin(40, FR_FIRST, FR_LAST, "fr-FR"),
    latin(40, ES_FIRST, ES_LAST, "es-ES"),
    latin(25, PT_FIRST, PT_LAST, "pt-BR"),
    latin(35, DE_FIRST, DE_LAST, "de-DE"),
    latin(12, NORDIC_FIRST, NORDIC_LAST, "sv-SE"),
    latin(12, CE_FIRST, CE_LAST, "pl-PL"),
    latin(25, IT_FIRST, IT_LAST, "it-IT"),
    latin(15, NL_FIRST, NL_LAST, "nl-NL"),
    latin(50, IN_FIRST, IN_LAST, "en-US"),
    latin(20, SEA_FIRST, SEA_LAST, "en-US"),
    roman(15, JA_FIRST, JA_LAST, "ja-JP"),
    roman(15, ZH_FIRST, ZH_LAST, "zh-CN"),
    roman(12, RU_FIRST, RU_LAST, "ru-RU"),
    roman(8, KO_FIRST, KO_LAST, "ko-KR"),
    roman(5, EL_FIRST, EL_LAST, "el-GR"),
];
