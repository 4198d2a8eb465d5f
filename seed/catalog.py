"""Fixed vocabularies the semester generator draws from: courses, names, tools.

Plain data, no randomness: the generator picks from these lists with its own
seeded random.Random, so changing a list changes the generated semester.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CatalogCourse:
    subject: str
    number: str
    title: str
    units: tuple[str, str, str, str, str]  # one topic per three-week unit
    lab: bool  # lab sections get "Lab Group" groups and lab reports


# The first six are the scale-1 semester; larger scales add the rest, then
# further sections of the same courses.
COURSES: tuple[CatalogCourse, ...] = (
    CatalogCourse(
        "BIO",
        "101",
        "Principles of Biology",
        ("Cells and Membranes", "Metabolism", "Genetics", "Evolution", "Ecology"),
        lab=True,
    ),
    CatalogCourse(
        "HIST",
        "210",
        "The United States since 1877",
        ("Reconstruction", "The Progressive Era", "Depression and War", "Cold War", "Since 1980"),
        lab=False,
    ),
    CatalogCourse(
        "CHEM",
        "121",
        "General Chemistry I",
        ("Atoms and Molecules", "Stoichiometry", "Gases", "Thermochemistry", "Bonding"),
        lab=True,
    ),
    CatalogCourse(
        "MATH",
        "151",
        "Calculus I",
        ("Limits", "Derivatives", "Applications of Derivatives", "Integrals", "Applications"),
        lab=False,
    ),
    CatalogCourse(
        "PSYC",
        "100",
        "Introduction to Psychology",
        ("Research Methods", "Biopsychology", "Learning and Memory", "Development", "Disorders"),
        lab=False,
    ),
    CatalogCourse(
        "ENGL",
        "102",
        "College Writing II",
        ("The Research Question", "Sources", "Argument", "Revision", "Portfolio"),
        lab=False,
    ),
    CatalogCourse(
        "CS",
        "110",
        "Introduction to Programming",
        ("Variables and Types", "Control Flow", "Functions", "Collections", "Objects"),
        lab=True,
    ),
    CatalogCourse(
        "ECON",
        "201",
        "Principles of Microeconomics",
        ("Supply and Demand", "Elasticity", "Consumer Choice", "Firms", "Market Structures"),
        lab=False,
    ),
    CatalogCourse(
        "PHYS",
        "211",
        "Physics for Scientists I",
        ("Kinematics", "Newton's Laws", "Energy", "Momentum", "Rotation"),
        lab=True,
    ),
    CatalogCourse(
        "SOC",
        "101",
        "Introduction to Sociology",
        ("Culture", "Socialization", "Inequality", "Institutions", "Social Change"),
        lab=False,
    ),
    CatalogCourse(
        "NURS",
        "220",
        "Health Assessment",
        ("Interviewing", "Vital Signs", "Cardiovascular", "Respiratory", "Neurological"),
        lab=True,
    ),
    CatalogCourse(
        "ART",
        "130",
        "Drawing Foundations",
        ("Line", "Value", "Perspective", "Composition", "The Figure"),
        lab=False,
    ),
)

TERM_CODE = "F26"

GIVEN_NAMES: tuple[str, ...] = (
    "James", "Maria", "Jose", "Aisha", "Wei", "Emily", "Michael", "Sofia", "David", "Olivia",
    "Daniel", "Priya", "Matthew", "Fatima", "Andrew", "Hannah", "Carlos", "Grace", "Joshua",
    "Mei", "Ethan", "Isabella", "Kevin", "Chloe", "Brandon", "Ava", "Tyler", "Zoe", "Jacob",
    "Lucia", "Nathan", "Amara", "Samuel", "Leah", "Ryan", "Nadia", "Christopher", "Yuki",
    "Jordan", "Elena", "Justin", "Abigail", "Marcus", "Camila", "Aaron", "Madison", "Kwame",
    "Sarah", "Luis", "Jasmine", "Dylan", "Ananya", "Noah", "Gabriela", "Omar", "Natalie",
    "Elijah", "Hana", "Isaiah", "Rachel", "Diego", "Imani", "Logan", "Valentina", "Hyun",
    "Megan", "Caleb", "Ingrid", "Malik", "Tessa", "Xavier", "Rosa", "Owen", "Keiko",
    "Trevor", "Alana", "Ibrahim", "Brianna", "Connor", "Mariam",
)  # fmt: skip

FAMILY_NAMES: tuple[str, ...] = (
    "Martinez", "Smith", "Nguyen", "Johnson", "Garcia", "Williams", "Chen", "Brown", "Patel",
    "Jones", "Rodriguez", "Kim", "Davis", "Lopez", "Miller", "Wilson", "Hernandez", "Anderson",
    "Thomas", "Okafor", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson",
    "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Torres", "Hill", "Flores", "Green", "Adams", "Nelson",
    "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips",
    "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart",
    "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Peterson", "Cooper", "Reed", "Bailey",
    "Bell", "Kowalski", "Haddad", "Singh", "Yamamoto", "O'Brien", "Mensah", "Novak", "Ivanova",
    "Schmidt", "Rossi", "Dubois", "Santos", "Larsen", "Abdullah", "Tanaka", "Fischer",
)  # fmt: skip

# (tool name, launch host) for resource/x-bb-blti-link items.
LTI_TOOLS: tuple[tuple[str, str], ...] = (
    ("McGraw Hill Connect", "connect.mheducation.com"),
    ("Pearson MyLab", "mylab.pearson.com"),
    ("Top Hat", "app.tophat.com"),
    ("Perusall", "app.perusall.com"),
    ("Gradescope", "www.gradescope.com"),
    ("Kaltura Media", "kaf.kaltura.com"),
)

EXTERNAL_SITES: tuple[tuple[str, str], ...] = (
    ("Khan Academy", "https://www.khanacademy.org/"),
    ("OpenStax", "https://openstax.org/"),
    ("Library research guide", "https://library.example.edu/guides/"),
    ("Crash Course", "https://thecrashcourse.com/"),
    ("Writing Center", "https://writing.example.edu/"),
)

TEAM_NICKNAMES: tuple[str, ...] = (
    "Night Owls", "The Outliers", "Null Hypothesis", "Deadline Dodgers", "Team Mitochondria",
    "Coffee & Citations", "The Control Group", "Plot Twist", "Significant Figures",
    "Peer Reviewers", "Second Draft", "Error Bars",
)  # fmt: skip

GRADER_COMMENTS: tuple[str, ...] = (
    "Good work.",
    "See rubric comments.",
    "Late submission: 10% penalty applied.",
    "Strong analysis; cite your sources consistently.",
    "Regraded after review of question 4.",
    "Please see me in office hours.",
)

USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/139.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:141.0) Gecko/20100101 Firefox/141.0",
)
