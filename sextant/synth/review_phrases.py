"""Review phrases in English, Spanish, German, French and Portuguese, by rating band:
negative (1-2 stars), mixed (3) and positive (4-5). A review is a title plus one opening,
one detail and one closing sentence of its band."""

from __future__ import annotations

BANDS = ("negative", "mixed", "positive")

# language -> band -> (titles, openings, details, closings)
REVIEWS: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {
    "en": {
        "negative": (
            (
                "Disappointed",
                "Not worth the money",
                "Fell apart quickly",
                "Would not buy again",
                "Poor quality",
            ),
            (
                "I really wanted to like this, but it let me down.",
                "Sadly this did not live up to the description.",
                "Very disappointed with this purchase.",
                "This was a waste of money.",
            ),
            (
                "The stitching came loose after two weeks.",
                "It arrived damaged and the box was crushed.",
                "The size runs much smaller than the chart says.",
                "The colour looks nothing like the photos.",
                "Customer service took ages to answer my email.",
            ),
            (
                "I am returning it.",
                "Avoid.",
                "I expected much better for this price.",
                "Not recommended.",
            ),
        ),
        "mixed": (
            ("It's okay", "Decent but not great", "Average", "Mixed feelings"),
            (
                "It does the job, nothing more.",
                "Some things are good, others not so much.",
                "Fine for the price, I suppose.",
            ),
            (
                "The material feels a bit thin.",
                "Delivery was slower than promised.",
                "It fits, although the sleeves are a little long.",
                "Works as described, but the finish could be better.",
            ),
            ("Might buy again on sale.", "Three stars from me.", "Not bad, not amazing."),
        ),
        "positive": (
            (
                "Love it!",
                "Excellent quality",
                "Exactly what I needed",
                "Highly recommend",
                "Five stars",
                "Great value",
            ),
            (
                "Absolutely love this.",
                "Really happy with this purchase.",
                "Exceeded my expectations.",
                "Best purchase I've made this year.",
            ),
            (
                "The quality is excellent and it arrived quickly.",
                "Fits perfectly and feels very sturdy.",
                "It looks even better than in the pictures.",
                "I use it every day and it still looks new.",
                "Great value for money.",
            ),
            (
                "Would definitely buy again!",
                "Highly recommended.",
                "Already ordered a second one.",
                "Thank you!",
            ),
        ),
    },
    "es": {
        "negative": (
            ("Decepcionante", "No vale lo que cuesta", "Mala calidad", "No lo volvería a comprar"),
            (
                "Tenía muchas ganas de que me gustara, pero me decepcionó.",
                "Lamentablemente no es como en la descripción.",
                "Muy decepcionado con esta compra.",
            ),
            (
                "Las costuras se soltaron a las dos semanas.",
                "Llegó dañado y con la caja aplastada.",
                "La talla es mucho más pequeña de lo que indica la tabla.",
                "El color no se parece en nada a las fotos.",
                "Atención al cliente tardó días en responder.",
            ),
            ("Lo voy a devolver.", "No lo recomiendo.", "Esperaba mucho más por este precio."),
        ),
        "mixed": (
            ("Está bien", "Correcto, sin más", "Normalito", "Regular"),
            (
                "Cumple su función, nada más.",
                "Tiene cosas buenas y otras no tanto.",
                "Aceptable para el precio.",
            ),
            (
                "El material es un poco fino.",
                "El envío tardó más de lo prometido.",
                "Funciona como se describe, pero los acabados podrían ser mejores.",
            ),
            ("Quizá lo vuelva a comprar en rebajas.", "Ni bueno ni malo."),
        ),
        "positive": (
            (
                "¡Me encanta!",
                "Excelente calidad",
                "Justo lo que buscaba",
                "Muy recomendable",
                "Cinco estrellas",
            ),
            (
                "Estoy encantada con esta compra.",
                "Muy contento con el producto.",
                "Superó mis expectativas.",
            ),
            (
                "La calidad es excelente y llegó muy rápido.",
                "Me queda perfecto y se nota resistente.",
                "Es aún más bonito que en las fotos.",
                "Lo uso todos los días y sigue como nuevo.",
                "Muy buena relación calidad-precio.",
            ),
            ("¡Sin duda volveré a comprar!", "Lo recomiendo totalmente.", "¡Gracias!"),
        ),
    },
    "de": {
        "negative": (
            (
                "Enttäuschend",
                "Das Geld nicht wert",
                "Schlechte Qualität",
                "Würde ich nicht wieder kaufen",
            ),
            (
                "Ich wollte es wirklich mögen, aber es hat mich enttäuscht.",
                "Leider entspricht es nicht der Beschreibung.",
                "Sehr enttäuscht von diesem Kauf.",
            ),
            (
                "Die Naht hat sich nach zwei Wochen gelöst.",
                "Es kam beschädigt an, der Karton war eingedrückt.",
                "Die Größe fällt deutlich kleiner aus als angegeben.",
                "Die Farbe sieht ganz anders aus als auf den Fotos.",
                "Der Kundenservice hat tagelang nicht geantwortet.",
            ),
            (
                "Ich schicke es zurück.",
                "Keine Empfehlung.",
                "Für diesen Preis hätte ich viel mehr erwartet.",
            ),
        ),
        "mixed": (
            ("Ganz okay", "Geht so", "Durchschnittlich", "Gemischte Gefühle"),
            (
                "Erfüllt seinen Zweck, mehr nicht.",
                "Manches ist gut, anderes weniger.",
                "Für den Preis in Ordnung.",
            ),
            (
                "Das Material ist etwas dünn.",
                "Die Lieferung hat länger gedauert als versprochen.",
                "Funktioniert wie beschrieben, aber die Verarbeitung könnte besser sein.",
            ),
            ("Im Angebot würde ich es vielleicht wieder kaufen.", "Nicht schlecht, nicht super."),
        ),
        "positive": (
            (
                "Super!",
                "Hervorragende Qualität",
                "Genau das, was ich gesucht habe",
                "Klare Kaufempfehlung",
                "Fünf Sterne",
            ),
            (
                "Ich bin total begeistert.",
                "Sehr zufrieden mit diesem Kauf.",
                "Hat meine Erwartungen übertroffen.",
            ),
            (
                "Die Qualität ist ausgezeichnet und die Lieferung war schnell.",
                "Passt perfekt und wirkt sehr robust.",
                "Sieht sogar besser aus als auf den Bildern.",
                "Ich benutze es täglich und es sieht immer noch aus wie neu.",
                "Top Preis-Leistungs-Verhältnis.",
            ),
            ("Würde ich jederzeit wieder kaufen!", "Absolut empfehlenswert.", "Danke!"),
        ),
    },
    "fr": {
        "negative": (
            ("Déçu", "Ne vaut pas son prix", "Mauvaise qualité", "Je ne rachèterai pas"),
            (
                "J'avais envie de l'aimer, mais il m'a déçu.",
                "Malheureusement, il ne correspond pas à la description.",
                "Très déçue par cet achat.",
            ),
            (
                "Les coutures ont lâché au bout de deux semaines.",
                "Il est arrivé abîmé, le carton était écrasé.",
                "La taille est bien plus petite que ce qu'indique le guide.",
                "La couleur n'a rien à voir avec les photos.",
                "Le service client a mis des jours à répondre.",
            ),
            ("Je le renvoie.", "À éviter.", "J'attendais beaucoup mieux à ce prix."),
        ),
        "mixed": (
            ("Correct", "Bien sans plus", "Moyen", "Avis mitigé"),
            (
                "Il fait le travail, sans plus.",
                "Il y a du bon et du moins bon.",
                "Correct pour le prix.",
            ),
            (
                "La matière est un peu fine.",
                "La livraison a pris plus de temps que prévu.",
                "Conforme à la description, mais les finitions pourraient être meilleures.",
            ),
            ("Je le rachèterai peut-être en promotion.", "Ni bon ni mauvais."),
        ),
        "positive": (
            (
                "J'adore !",
                "Excellente qualité",
                "Exactement ce qu'il me fallait",
                "Je recommande vivement",
                "Cinq étoiles",
            ),
            (
                "Je suis ravie de cet achat.",
                "Très satisfait du produit.",
                "Il a dépassé mes attentes.",
            ),
            (
                "La qualité est excellente et la livraison a été rapide.",
                "Il me va parfaitement et semble très solide.",
                "Encore plus beau qu'en photo.",
                "Je l'utilise tous les jours et il est comme neuf.",
                "Excellent rapport qualité-prix.",
            ),
            ("Je rachèterai sans hésiter !", "Je recommande à 100 %.", "Merci !"),
        ),
    },
    "pt": {
        "negative": (
            ("Decepcionante", "Não vale o preço", "Qualidade ruim", "Não compraria de novo"),
            (
                "Eu queria muito gostar, mas me decepcionou.",
                "Infelizmente não é como na descrição.",
                "Muito decepcionado com esta compra.",
            ),
            (
                "A costura soltou depois de duas semanas.",
                "Chegou danificado e com a caixa amassada.",
                "O tamanho é bem menor do que a tabela indica.",
                "A cor não tem nada a ver com as fotos.",
                "O atendimento demorou dias para responder.",
            ),
            ("Vou devolver.", "Não recomendo.", "Esperava muito mais por esse preço."),
        ),
        "mixed": (
            ("É ok", "Razoável", "Mediano", "Sentimentos mistos"),
            (
                "Cumpre o que promete, nada mais.",
                "Tem pontos bons e outros nem tanto.",
                "Aceitável pelo preço.",
            ),
            (
                "O material é um pouco fino.",
                "A entrega demorou mais do que o prometido.",
                "Funciona como descrito, mas o acabamento poderia ser melhor.",
            ),
            ("Talvez compre de novo numa promoção.", "Nem bom nem ruim."),
        ),
        "positive": (
            (
                "Amei!",
                "Qualidade excelente",
                "Exatamente o que eu precisava",
                "Super recomendo",
                "Cinco estrelas",
            ),
            (
                "Estou muito feliz com esta compra.",
                "Muito satisfeita com o produto.",
                "Superou minhas expectativas.",
            ),
            (
                "A qualidade é excelente e chegou rapidinho.",
                "Serviu perfeitamente e parece bem resistente.",
                "É ainda mais bonito do que nas fotos.",
                "Uso todos os dias e continua como novo.",
                "Ótimo custo-benefício.",
            ),
            ("Com certeza compraria de novo!", "Recomendo muito.", "Obrigada!"),
        ),
    },
}
