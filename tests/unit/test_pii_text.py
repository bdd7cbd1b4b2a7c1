"""Person names and street addresses: the cue-based recognizers."""

from __future__ import annotations

import pytest

from ai.pii.detector import PiiDetector, get_detector
from ai.pii.first_names import first_names, is_first_name
from ai.pii.names import is_list_bullet, trim_name, vocabulary_words


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return get_detector()


def found(detector: PiiDetector, text: str, language: str) -> list[tuple[str, str]]:
    return [(f.category, f.text_in(text)) for f in detector.detect(text, language)]


@pytest.mark.parametrize(
    ("language", "text", "name"),
    [
        ("es", "Hola, soy Carmen Ruiz de la tienda La Esperanza. Necesito 5 rejas", "Carmen Ruiz"),
        ("es", "me llamo Lupita Hernández, les escribo de Abarrotes Lupita", "Lupita Hernández"),
        ("es", "Mi nombre es José Luis Pérez", "José Luis Pérez"),
        ("es", "Soy la señora Martínez", "Martínez"),
        ("es", "Facturar a nombre de Roberto Gómez Bolaños", "Roberto Gómez Bolaños"),
        ("es", "Ya les deposité. Saludos, María Fernanda", "María Fernanda"),
        ("es", "Saludos\nJuan Pérez", "Juan Pérez"),
        ("es", "Att. Lic. Roberto Gómez", "Roberto Gómez"),
        ("es", "Hola Pedro, me mandas 3 cajas", "Pedro"),
        ("pt", "Oi, aqui é o João Pereira do Bar do Zé. Quero 2 fardos", "João Pereira"),
        ("pt", "Boa tarde, meu nome é Ana Souza, do Mercadinho Bom Preço", "Ana Souza"),
        ("pt", "oi, aqui é a Fernanda da padaria", "Fernanda"),
        ("pt", "Qualquer coisa liga. Abraço, Carlos", "Carlos"),
        ("pt", "Rua das Flores? falar com o seu João", "João"),
        ("en", "call me if there's a problem - Mike Johnson", "Mike Johnson"),
        ("en", "Hi this is Sarah from Blue Door Cafe, we'd like 10 cases", "Sarah"),
        ("en", "My name is Tom Becker, manager at Lakeview Grill", "Tom Becker"),
        ("en", "this is Jennifer O'Brien from Hilltop Deli", "Jennifer O'Brien"),
        ("en", "Ask for Mr. Kim at the back door", "Kim"),
        ("en", "2 cases of wings\n- Mike 👍", "Mike"),
        ("en", "Hey it's Mike from Rosie's, 3 cases", "Mike"),
        ("en", "Best regards, John Smith", "John Smith"),
        ("es", "Saludos cordiales,\nAna López", "Ana López"),
        ("pt", "Aqui é a Dona Maria do mercadinho", "Maria"),
        ("en", "2 cases boneless chicken please, thx - Dana, 555-867-5309", "Dana"),  # a signature with a phone
        ("es", "3 cajas de coca. Saludos, Martha López 55 1234 5678", "Martha López"),
        # lower-case given names after an introduction, or before "here"/"aquí"
        ("es", "hola soy pedro de la tiendita, me apunta 6 six", "pedro"),
        ("pt", "Oi, sou o joão, da padaria do lado", "joão"),
        ("en", "hey its dave, same order as last week", "dave"),
        ("en", "carlos here, can u do 3 cases of red bull", "carlos"),
        ("pt", "Boa tarde! Francisco de Assis Albuquerque aqui, cancela o pedido", "Francisco de Assis Albuquerque"),
        ("es", "Buen día, aquí Ramiro Sánchez Villaseñor. Cancelen lo de ayer", "Ramiro Sánchez Villaseñor"),
        # relations, honorifics, receivers and owners
        ("es", "Hable con mi hijo Luis Fernando al 33-1234-5678", "Luis Fernando"),
        ("en", "tell your driver to text my son Kevin at the store", "Kevin"),
        ("pt", "Liga pro meu sócio Rafael pra combinar a entrega", "Rafael"),
        ("pt", "falar com a gerente, a patrícia, no 11987654321", "patrícia"),
        ("es", "gracias don Chuy por lo de ayer! le encargo 2 cartones", "Chuy"),
        ("pt", "Obrigado pela entrega, seu Zé! Semana que vem quero o mesmo", "Zé"),
        ("pt", "Quem vai receber é a Dona Cida, telefone 21 99876-5432", "Cida"),
        ("pt", "10 cx Coca-Cola 2L\nrecebe: Luana\ncel +55 11 91234-5678", "Luana"),
        ("en", "4 cs Modelo\nReceiver: Tom Nguyen 415-555-0199", "Tom Nguyen"),
        ("en", "The owner's SSN is 318-44-2290. Owner: Dwayne Mitchell", "Dwayne Mitchell"),
        ("en", "Drop off at 727 Maple Avenue, back entrance. Jamal will sign for it", "Jamal"),
        # data after a colon, names on file, initials and abbreviated given names
        ("es", "mis datos para el crédito: José Manuel Torres Ibarra, CURP TOIJ780224HJCRBS00", "José Manuel Torres Ibarra"),
        ("pt", "Segue dados p/ cadastro: Fernanda Lima Rocha, CPF 746.203.815-35", "Fernanda Lima Rocha"),
        ("en", "For the credit application: Robert J. Alvarez, SSN 412-58-3907", "Robert J. Alvarez"),
        ("en", "SSN for the tax form is 523 71 4408, name on file is Luis Ortega", "Luis Ortega"),
        ("pt", "Segue o CPF pra nota: 529.982.247-25, no nome de Carlos Eduardo Souza", "Carlos Eduardo Souza"),
        ("es", "Ahí dejan 5 cajas. Atte. Ma. Guadalupe Hernández de la Cruz", "Ma. Guadalupe Hernández de la Cruz"),
        ("en", "Regards, Patrick McAllister | 9801 Highway 290 E, Austin | 512 555 0148", "Patrick McAllister"),
        # an honorific opening a sentence, staff and drivers, "con X", thanks, shouting, shop sign-offs
        ("es", "Don Ramiro de la carnicería quiere 2 cartones", "Ramiro"),
        ("pt", "Seu Antônio pediu pra avisar do pix", "Antônio"),
        ("pt", "O entregador de vocês, o Zezinho, deixou a nota errada", "Zezinho"),
        ("en", "Your driver Marcus said you need a W-9", "Marcus"),
        ("es", "Número de mi encargada: 442-318-9075, se llama Rocío", "Rocío"),
        ("es", "ella es la dueña, Margarita García Ramírez", "Margarita García Ramírez"),
        ("en", "5 cs romaine. billing contact is Angela Russo (630) 555-0115", "Angela Russo"),
        ("pt", "gelo 20 sacos. quem recebe é o Biel, cel 71 99123-4567", "Biel"),
        ("es", "Cualquier cosa al 33 1456 7890 con Toño", "Toño"),
        ("en", "Thanks Maria, got everything 👍", "Maria"),
        ("pt", "Valeu Marcelo, chegou tudo certo!", "Marcelo"),
        ("pt", "Oi pessoal, é o Marcelo do Bar do Zé. Manda 10 packs", "Marcelo"),
        ("en", "Bill it to my card, name on card Carla Benson", "Carla Benson"),
        ("es", "ME MANDAS 5 CAJAS. CUALQUIER COSA PREGUNTAR POR JAVIER", "JAVIER"),
        ("en", "4 bags of shredded cheddar for Tues. - Tony Russo, Bella Napoli Pizzeria", "Tony Russo"),
        ("en", "Add 6 cases of water to our standing order - Carlos at Pepe's Tacos", "Carlos"),
        ("pt", "Obrigado pela paciência ontem, Marcos. Até semana que vem", "Marcos"),
        # words in capitals, lower-case given names in a row, chat exports, contact cards, coordination
        ("es", "lo pago con tarjeta a nombre de MARÍA GUADALUPE TORRES VEGA número 4152", "MARÍA GUADALUPE TORRES VEGA"),
        ("pt", "validade 09/28, nome impresso CLAUDIA R SANTOS", "CLAUDIA R SANTOS"),
        ("es", "todo a nombre de juan carlos méndez ortega", "juan carlos"),
        ("es", "y se lo dejas a chuy el que está en la bodega", "chuy"),
        ("es", "el whats de mi esposa es 33 3615 2208 ella se llama araceli por si no contesto", "araceli"),
        ("en", "[3/14/25, 6:02 AM] Tom Becker: need 2 more cases bacon", "Tom Becker"),
        ("en", "please add him\n\nDeShawn Miller\nExecutive Chef\nmobile +1 (708) 555-0172", "DeShawn Miller"),
        ("pt", "quem recebe hoje é a Cláudia ou o Wellington", "Wellington"),
        ("es", "Qué onda Beto como estás, oye ayer vino el de la Pepsi", "Beto"),
        ("en", "this is mrs. okafor from sunrise daycare can we get", "okafor"),
        ("en", "our bookkeeper Linda Park can't find it", "Linda Park"),
        ("en", "Jake here (cell 312-555-0139). Running low", "Jake"),
        ("en", "Please let Carlos know that's not ok.", "Carlos"),
        ("en", "Our new kitchen manager is Kevin O'Brien, you can reach him", "Kevin O'Brien"),
        ("en", "Hi! Jenna here from Pho Real. Can we get 4 bags of rice", "Jenna"),
        ("en", "Appreciate you squeezing us in yesterday, Rachel. Lifesaver!", "Rachel"),
        ("pt", "Oi! Patrícia da Lanchonete Sabor Mineiro. Pra quinta: 6 packs", "Patrícia"),
        ("es", "BEGIN:VCARD\nVERSION:3.0\nFN:Guadalupe Herrera\nTEL;type=CELL:+52 1 33 3812 6654\nEND:VCARD",
         "Guadalupe Herrera"),
        ("es", "Muchas gracias a Lupita de cobranza por la paciencia", "Lupita"),
        ("es", "La copia del INE se la di a la licenciada Mónica el martes.\nLuis Enríquez", "Luis Enríquez"),
        ("es", "La copia se la di a la licenciada Mónica el martes", "Mónica"),
        ("es", "aclaraciones con el Ing. Marco Antonio Villaseñor.", "Marco Antonio Villaseñor"),
        ("en", "hey this is dante russo from russo's pizzeria", "dante russo"),
        ("en", "Our morning prep cook, Alejandra Ruiz, will be signing for deliveries", "Alejandra Ruiz"),
        ("en", "Guarantor: Linda M. Kowalski, SSN 538-21-4467", "Linda M. Kowalski"),
        ("pt", "Segue o contato:\n\n👤 Thiago Nogueira Bastos\n📱 +55 31 99172-4058", "Thiago Nogueira Bastos"),
        ("pt", "quem confere a mercadoria é o Leandro Batista, nosso novo gerente", "Leandro Batista"),
        ("es", "que sean 6. Gracias!! Atte. Marisol 🙌", "Marisol"),
        ("es", "la factura con estos datos:\nMaría Guadalupe Hernández Soto\nRFC: HESG880314K75", "María Guadalupe Hernández Soto"),
        ("es", "6 de jose cuervo, facturar a Laura Castillo Pérez rfc CAPL830417B26", "Laura Castillo Pérez"),
        ("es", "lo recibe mi cuñado Efraín Olvera, su cel es 442 183 7765", "Efraín Olvera"),
        ("es", "Oiga el chofer de hoy, Ramiro creo que se llama, me dejó 2 cajas de menos", "Ramiro"),
        ("es", "Dígale a Toño (el vendedor) que siempre sí", "Toño"),
        ("pt", "Fala pro Diego, o vendedor, que eu aceito a proposta", "Diego"),
        ("en", "My sous chef Darnell Jackson will be placing the orders", "Darnell Jackson"),
        ("en", "if he's not around his brother Andre can sign for deliveries", "Andre"),
        ("pt", "Rua das Acácias 77, apto 302. Nome na nota: Simone Araújo, CPF 206.915.384-33", "Simone Araújo"),
    ],
)
def test_names_after_a_cue(detector: PiiDetector, language: str, text: str, name: str) -> None:
    assert ("PERSON", name) in found(detector, text, language)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "hola soy cliente nuevo, quiero 3 cajas"),
        ("es", "soy el encargado de la tienda, soy de Abarrotes Lupita, soy nuevo"),
        ("en", "hey its me again, its urgent; i'm here; this is ok"),
        ("pt", "bom dia, sou eu de novo, sou da padaria; quem vai receber?"),
        ("es", "La factura a nombre de Comercializadora El Sol del Bajío"),
        ("en", "12 Dr Pepper 2L, 1 case Dr. Pepper"),
        ("es", "¿tienen Don Julio 70? también 2 Don Julio Reposado 700"),
        ("es", "Pedido de Abarrotes Doña Lupe: 3 cajas de jarritos"),
        ("pt", "Pedido do Bar da Dona Nena: 3 caixas de heineken; e o Dolly? tem?"),
        ("en", "2 cases of ketchup - Heinz Ketchup, Hellmanns Mayo"),  # a dash, then products: no shop
        ("es", "ME MANDAS 5 CAJAS DE COCA 600 Y 2 DE SPRITE"),
        ("es", "Oiga, el chofer no llegó; Mire, la caja vino rota"),
        ("en", "2 cases of fries - Mike's order as usual"),
        ("es", "FACTURAR A NOMBRE DE ABARROTES LA ESPERANZA SA DE CV RFC ALE150622QH9 USO CFDI G01"),
        ("es", "soy la señora de la tienda; soy la señora que les compra"),
        ("en", "business name Jimmy O's Hot Dogs"),
        ("en", "please add him\n\nExecutive Chef\nmobile +1 (708) 555-0172"),
        ("es", "ya está mejor gracias a Dios; WHERE IS MY ORDER?? DRIVER SAID 10AM ITS NOW 1PM"),
        ("es", "Lo recibe el vecino; Pedido de Abarrotes Lupita"),
        ("en", "Attn: Accounts Payable\n410 Maple St; thanks! — Management, Big Ed's BBQ"),

        ("es", "Gracias, Saludos"),
        ("en", "This is Monday's order: 3 cases; this is urgent. It's Friday"),
        ("en", "Hey Team, need 2 cases of Frank's RedHot"),
    ],
)
def test_no_name_without_a_name_after_a_cue(detector: PiiDetector, language: str, text: str) -> None:
    assert [c for c, _ in found(detector, text, language) if c == "PERSON"] == []


def test_the_distributors_own_name_is_not_a_person_after_a_weak_cue(detector: PiiDetector) -> None:
    own = vocabulary_words("Distribuidora El Valle", "Atacadista Sol Nascente")
    assert found(detector, "Hola Valle, soy Jesús Ramírez", "es") == [("PERSON", "Valle"), ("PERSON", "Jesús Ramírez")]
    kept = detector.detect("Hola Valle, soy Jesús Ramírez", "es", not_names=own)
    assert [f.text_in("Hola Valle, soy Jesús Ramírez") for f in kept] == ["Jesús Ramírez"]
    text = "Tienen Doña Maria mole? biscoito Maria x3"  # a brand the catalog sells, not a lady
    assert found(detector, text, "es") == [("PERSON", "Maria")]  # what a bare detector cannot tell
    assert detector.detect(text, "es", not_names=vocabulary_words("Mole Doña María 235 g")) == []
    text = "2 cajas de sprite; Coca de la tienda de enfrente"  # a brand, then where: as a name writing from a shop
    assert found(detector, text, "es") == [("PERSON", "Coca")]
    assert detector.detect(text, "es", not_names=vocabulary_words("Coca-Cola 600 ml (caja 24)")) == []
    text = "Pedido:\n3 cajas de coca 600.\nTopo Chico"  # a product alone on the last line
    assert found(detector, text, "es") == [("PERSON", "Topo Chico")]
    assert detector.detect(text, "es", not_names=vocabulary_words("Topo Chico 600 ml (caja 24)")) == []
    text = "Oi Sol, aqui é o Sol Pereira"  # an introduction is not weak: a customer may share the name
    assert [f.text_in(text) for f in detector.detect(text, "pt", not_names=own)] == ["Sol Pereira"]


def test_a_name_joined_to_a_name_but_not_goods(detector: PiiDetector) -> None:
    assert found(detector, "soy Ana y Coca Cola 3 cajas", "es") == [("PERSON", "Ana")]
    assert found(detector, "ask for Maria or Jose at the dock", "en") == [("PERSON", "Maria"), ("PERSON", "Jose")]


def test_lower_case_names_must_be_given_names() -> None:
    assert is_first_name("pedro") and is_first_name("João") and is_first_name("dave")
    assert not is_first_name("encargado") and not is_first_name("don") and not is_first_name("bill")
    assert len(first_names()) > 1500


def test_trim_name_cuts_at_common_words_and_drops_shop_names() -> None:
    text = "Carmen Ruiz Gracias"
    assert trim_name(text, 0, len(text)) == (0, len("Carmen Ruiz"))
    assert trim_name("Blue Door Cafe", 0, 14) is None
    text = "João Pereira do Bar"
    assert trim_name(text, 0, len(text)) == (0, len("João Pereira"))
    assert trim_name("Rosie's", 0, 5) is None


def test_dash_after_a_list_is_a_bullet_not_a_signature() -> None:
    listing = "Order:\n- Heinz Ketchup\n- Hellmanns Mayo"
    assert is_list_bullet(listing, listing.rindex("-"))
    signed = "2 cases of fries\n- Mike"
    assert not is_list_bullet(signed, signed.rindex("-"))
    inline = "call me - Mike"
    assert not is_list_bullet(inline, inline.rindex("-"))


@pytest.mark.parametrize(
    ("language", "text", "address"),
    [
        ("es", "Entregar en Av. Insurgentes Sur 1234, Col. Del Valle", "Av. Insurgentes Sur 1234, Col. Del Valle"),
        ("es", "Entregar en Calle 5 de Mayo #23, Col. Centro, C.P. 44100 por favor",
         "Calle 5 de Mayo #23, Col. Centro, C.P. 44100"),
        ("es", "calle Hidalgo 120 int 3, col. Juárez, CP 06600", "calle Hidalgo 120 int 3, col. Juárez, CP 06600"),
        ("es", "entregar en Insurgentes Sur 1234, Del Valle", "Insurgentes Sur 1234, Del Valle"),
        ("es", "Dirección: Morelos 45, Centro. Gracias", "Morelos 45, Centro"),
        ("pt", "20 sacos de gelo, entregar na Rua Augusta 1500, São Paulo", "Rua Augusta 1500, São Paulo"),
        ("pt", "Entrega na Av. Paulista, 1578 - Bela Vista, São Paulo - SP, CEP 01310-200",
         "Av. Paulista, 1578 - Bela Vista, São Paulo - SP, CEP 01310-200"),
        ("pt", "Rua das Flores, 123 - apto 45, Curitiba - PR", "Rua das Flores, 123 - apto 45, Curitiba - PR"),
        ("pt", "Rua Augusta 1500, Manda 2 caixas", "Rua Augusta 1500"),  # the tail stops at "Manda"
        ("en", "Deliver to 1458 W Fulton St, Chicago, IL 60607. We need 1 case",
         "1458 W Fulton St, Chicago, IL 60607"),
        ("en", "Ship to 220 N Michigan Ave Suite 400, Chicago, IL 60601 - need 2 cases",
         "220 N Michigan Ave Suite 400, Chicago, IL 60601"),
        ("en", "Address: 742 Evergreen Terrace, Springfield", "742 Evergreen Terrace, Springfield"),
        ("en", "Our address is 455 Elm Street, Evanston IL 60201", "455 Elm Street, Evanston IL 60201"),
        ("en", "Deliver to 125 E. 5th Ave, Unit 2", "125 E. 5th Ave, Unit 2"),
        ("pt", "Endereço: Rua XV de Novembro, 200, Centro, Curitiba", "Rua XV de Novembro, 200, Centro, Curitiba"),
        ("en", "Regards, Pat | 9801 Highway 290 E, Austin | 512 555 0148", "9801 Highway 290 E, Austin"),
        ("en", "ship to 1200 State Road 7, Margate FL 33063", "1200 State Road 7, Margate FL 33063"),
        # typed in lower case, without a delivery cue
        ("es", "que lo entreguen en calle aldama 318 colonia san juan de dios porque", "calle aldama 318 colonia san juan de dios"),
        ("es", "yo estoy en calle 5 de mayo 212 col. centro zapopan", "calle 5 de mayo 212 col. centro zapopan"),
        ("pt", "pra av. brasil 2890, jardim américa", "av. brasil 2890, jardim américa"),
        ("en", "go to 2240 n milwaukee ave unit b chicago il 60647, thanks", "2240 n milwaukee ave unit b chicago il 60647"),
        ("en", "drop it on 1845 s blue island ave not the front", "1845 s blue island ave"),
        ("pt", "10 sacos, entregar na rua xv de novembro 1020 loja 3", "rua xv de novembro 1020 loja 3"),  # lower case
        ("es", "entregar en calle morelos 45", "calle morelos 45"),
    ],
)
def test_addresses(detector: PiiDetector, language: str, text: str, address: str) -> None:
    assert ("ADDRESS", address) in found(detector, text, language)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "Calle 10 cajas de leche; Av. 3 cajas"),
        ("es", "Entregar en la bodega 3 de la central de abasto, pasillo 5"),
        ("en", "Deliver to the back door, 2 cases of Dr Pepper 12 oz; Route 66 burgers x 4"),
        ("en", "12 Route 66 cases, need 12 cases, 2 rd 5, 3 route 66 root beer"),
        ("es", "entregar en la calle de atrás 2 cajas; entrega en calle 3 cajas"),
        ("es", "en la calle tenemos 20 cajas; la cortina está cerrada después de las 14:00"),
        ("pt", "rua 3 caixas de cerveja 12"),
        ("en", "need 12 cases dr pepper and 2 cases of st; 20 cases of 16 oz water ave"),
        ("pt", "entrega na Padaria Central, rua de trás; Rua 3 caixas"),
    ],
)
def test_no_address_in_delivery_chatter(detector: PiiDetector, language: str, text: str) -> None:
    assert found(detector, text, language) == []
